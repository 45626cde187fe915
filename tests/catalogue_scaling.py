"""A release ten times the size of the seed, for query-count tests and the benchmark."""

import copy

from django.utils import timezone

from indications.models import CatalogueRelease
from indications.snapshot import content_hash, sign_release


def tenfold_release(version: str = "tenfold") -> CatalogueRelease:
    """Publish (directly, bypassing the checks; signed as the application signs) a copy of the latest
    release with every indication and drug repeated ten times under new names."""
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
    fields = {
        "number": latest.number + 1,
        "version": version,
        "content_hash": content_hash(snapshot),
        "published_by_id": None,
        "change_summary": "ten times the seed catalogue",
        "clinical_changes": [],
        "editorial_state_hash": "",
    }
    return CatalogueRelease.objects.create(
        **fields, snapshot=snapshot, published_at=timezone.now(), signature=sign_release(fields)
    )
