"""A release ten times the size of the seed, for query-count tests and the benchmark."""

import copy

from django.utils import timezone

from indications.models import CatalogueRelease
from indications.snapshot import content_hash


def tenfold_release(version: str = "tenfold") -> CatalogueRelease:
    """Publish (directly, bypassing the checks) a copy of the latest release with every indication
    and drug repeated ten times under new names."""
    latest = CatalogueRelease.objects.latest()
    snapshot = copy.deepcopy(latest.snapshot)
    base_indications, base_drugs = list(snapshot["indications"]), list(snapshot["drugs"])
    for n in range(1, 10):
        for ind in base_indications:
            snapshot["indications"].append(
                {**copy.deepcopy(ind), "slug": f"{ind['slug']}-{n}", "name": f"{ind['name']} {n}"}
            )
        for drug in base_drugs:
            other_names = [f"{o} {n}" for o in drug["other_names"]]
            snapshot["drugs"].append({**drug, "name": f"{drug['name']} {n}", "other_names": other_names})
    return CatalogueRelease.objects.create(
        number=latest.number + 1,
        version=version,
        snapshot=snapshot,
        content_hash=content_hash(snapshot),
        published_at=timezone.now(),
        change_summary="ten times the seed catalogue",
    )
