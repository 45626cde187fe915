"""From editorial tables to a release snapshot, and from a release to the engine's ``Catalogue``.

``build_snapshot()`` reads every published row of the editorial catalogue in a fixed number of
queries (whatever the catalogue's size) and returns plain JSON data. Publishing stores that data in
an immutable ``CatalogueRelease``; previewing hands it straight to the engine.

``published_catalogue()`` is what every clinician-facing door calls: one query for the newest
release's id and version, plus one more only when that release has not been loaded by this process
yet. Releases never change, so a loaded release never goes stale.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from typing import Any

from django.conf import settings
from django.db.models import Prefetch

from decision_support.observability import current_release

from .engine.catalogue import Catalogue
from .engine.checks import FLAG_GROUPS
from .models import (
    CatalogueRelease,
    Caveat,
    ClinicalCode,
    Condition,
    ConditionRule,
    DoseRegimen,
    Drug,
    DrugClass,
    DrugName,
    Guideline,
    HepaticRule,
    Indication,
    InteractionRule,
    LabelledLimit,
    PatientNote,
    RenalRule,
    SafetyNote,
    Source,
    StandardFlag,
    Study,
)


def _keys(sources) -> list[str]:
    return sorted(s.key for s in sources)


def _flag(rule) -> dict[str, Any] | None:
    if not rule.flag_code:
        return None
    flag = {
        "code": rule.flag_code,
        "severity": rule.severity,
        "title": rule.title,
        "detail": rule.detail,
        "sources": _keys(rule.sources.all()),
    }
    if hasattr(rule, "verdict"):  # renal rules act through their dose effect instead
        flag["verdict"] = rule.verdict
    return flag


def build_snapshot() -> dict[str, Any]:
    """The published content of the editorial tables as JSON-ready data."""
    sources_prefetch = Prefetch("sources", queryset=Source.objects.order_by("key"))
    indications = (
        Indication.objects.published()
        .select_related("augments_class")
        .prefetch_related(
            sources_prefetch,
            Prefetch("caveats", queryset=Caveat.objects.prefetch_related(sources_prefetch)),
            Prefetch("studies", queryset=Study.objects.published()),
            "evidence_gaps",
            Prefetch("guidelines", queryset=Guideline.objects.published().prefetch_related(sources_prefetch)),
        )
    )
    regimens = DoseRegimen.objects.prefetch_related(
        sources_prefetch,
        Prefetch(
            "renal_rules",
            queryset=RenalRule.objects.published().prefetch_related(sources_prefetch),
        ),
    )
    drugs = Drug.objects.published().prefetch_related(
        "classes",
        Prefetch("components", queryset=Drug.objects.order_by("name")),
        Prefetch(
            "other_names",
            queryset=DrugName.objects.filter(is_published=True).select_related("source").order_by("id"),
        ),
    )

    snapshot_indications = []
    for ind in indications:
        snapshot_indications.append(
            {
                "slug": ind.slug,
                "name": ind.name,
                "category": ind.category,
                "status": ind.status,
                "therapeutic_role": ind.therapeutic_role,
                "augments_class": ind.augments_class.code if ind.augments_class else None,
                "mechanism_rationale": ind.mechanism_rationale,
                "dose_studied": ind.dose_studied,
                "dose_studied_min_mg_per_day": ind.dose_studied_min_mg_per_day,
                "dose_studied_max_mg_per_day": ind.dose_studied_max_mg_per_day,
                "evidence": {
                    "strength": ind.strength_of_evidence,
                    "efficacy": ind.efficacy,
                    "recommendation": ind.recommendation,
                },
                "evidence_summary": ind.evidence_summary,
                "clinical_significance": ind.clinical_significance,
                "guidelines": [
                    {
                        "body": g.body,
                        "title": g.title,
                        "year": g.year,
                        "position": g.position,
                        "statement": g.statement,
                        "sources": _keys(g.sources.all()),
                    }
                    for g in ind.guidelines.all()
                ],
                "caveats": [{"text": c.text, "sources": _keys(c.sources.all())} for c in ind.caveats.all()],
                "evidence_gaps": [
                    {"element": g.element, "reason": g.reason} for g in ind.evidence_gaps.all()
                ],
                "studies": [
                    {
                        "key": s.key,
                        "citation": s.citation,
                        "first_author": s.first_author,
                        "year": s.year,
                        "design": s.design,
                        "participants": s.participants,
                        "dose": s.dose,
                        "duration": s.duration,
                        "result": s.result,
                        "finding": s.finding,
                        "statistics": s.statistics,
                        "pmid": s.pmid,
                        "doi": s.doi,
                        "url": s.derived_url() or s.url,
                    }
                    for s in ind.studies.all()
                ],
                "sources": _keys(ind.sources.all()),
                "last_reviewed": ind.last_reviewed.isoformat(),
                "next_review_due": ind.next_review_due.isoformat() if ind.next_review_due else "",
            }
        )

    snapshot_regimens = []
    snapshot_renal = []
    for reg in regimens:
        snapshot_regimens.append(
            {
                "region": reg.region,
                "formulation": reg.formulation,
                "start_mg_per_day": reg.start_mg_per_day,
                "max_mg_per_day": reg.max_mg_per_day,
                "ir_equivalent_max_mg_per_day": reg.ir_equivalent_max_mg_per_day,
                "regimen": reg.regimen,
                "titration": reg.titration,
                "titration_steps": reg.steps(),
                "step_days": reg.step_days,
                "sources": _keys(reg.sources.all()),
            }
        )
        for rule in reg.renal_rules.all():
            snapshot_renal.append(
                {
                    "region": reg.region,
                    "formulation": reg.formulation,
                    "band": rule.band,
                    "crcl_min_ml_min": rule.crcl_min_ml_min,
                    "lower_inclusive": rule.lower_inclusive,
                    "crcl_max_ml_min": rule.crcl_max_ml_min,
                    "upper_inclusive": rule.upper_inclusive,
                    "dose_effect": rule.dose_effect,
                    "start_mg_per_day": rule.start_mg_per_day,
                    "max_mg_per_day": rule.max_mg_per_day,
                    "regimen": rule.regimen_text,
                    "titration": rule.titration,
                    "summary": rule.summary,
                    "flag": _flag(rule),
                    "sources": _keys(rule.sources.all()),
                }
            )

    snapshot = {
        "indications": snapshot_indications,
        "regimens": snapshot_regimens,
        "renal_rules": snapshot_renal,
        "labelled_limits": [
            {
                "formulation": lim.formulation,
                "max_mg_per_day": lim.max_mg_per_day,
                "strengths_mg": [int(s) for s in lim.strengths_mg.split(",")],
                "min_step_days": lim.min_step_days,
                "sources": _keys(lim.sources.all()),
            }
            for lim in LabelledLimit.objects.prefetch_related(sources_prefetch)
        ],
        "hepatic_rules": [
            {
                "region": r.region,
                "child_pugh_class": r.child_pugh_class,
                "summary": r.summary,
                "flag": _flag(r),
                "sources": _keys(r.sources.all()),
            }
            for r in HepaticRule.objects.published().prefetch_related(sources_prefetch)
        ],
        "safety_notes": [
            {
                "key": n.key,
                "text": n.text,
                "sources": _keys(n.sources.all()),
                "on_sheet": n.on_summary_sheet,
                "region": n.region,
            }
            for n in SafetyNote.objects.published().prefetch_related(sources_prefetch)
        ],
        "patient_notes": [
            {
                "key": n.key,
                "topic": n.topic,
                "text": n.text,
                "sources": _keys(n.sources.all()),
                "region": n.region,
            }
            for n in PatientNote.objects.published().prefetch_related(sources_prefetch)
        ],
        "conditions": [
            {"slug": c.slug, "label": c.label} for c in Condition.objects.order_by("display_order", "label")
        ],
        "condition_rules": [
            {"condition": r.condition.slug, "region": r.region, "flag": _flag(r)}
            for r in ConditionRule.objects.published()
            .select_related("condition")
            .prefetch_related(sources_prefetch)
        ],
        "interaction_rules": [
            {
                "drug_class": r.drug_class.code,
                "also_requires_class": r.also_requires_class.code if r.also_requires_class else None,
                "region": r.region,
                "flag": _flag(r),
            }
            for r in InteractionRule.objects.published()
            .select_related("drug_class", "also_requires_class")
            .prefetch_related(sources_prefetch)
        ],
        "standard_flags": [
            {"region": r.region, "flag": _flag(r)}
            for r in StandardFlag.objects.published().prefetch_related(sources_prefetch)
        ],
        "drug_classes": [
            {"code": c.code, "name": c.name, "show_on_intake": c.show_on_intake}
            for c in DrugClass.objects.order_by("code")
        ],
        "drugs": [
            {
                "name": d.name,
                "rxnorm_code": d.rxnorm_code,
                "classes": sorted(c.code for c in d.classes.all()),
                "components": [c.name for c in d.components.all()],
                # Published brand names and synonyms in editorial order (the first brands are shown).
                "other_names": [n.name for n in d.other_names.all()],
                "name_sources": {n.name: n.source.key for n in d.other_names.all() if n.source_id},
                "name_kinds": {n.name: n.kind for n in d.other_names.all()},
            }
            for d in drugs
        ],
    }
    snapshot["codes"] = [
        {
            "system": c.system,
            "code": c.code,
            "display": c.display,
            "means": c.means,
            "drug": c.drug.name if c.drug_id else "",
            "formulation": c.formulation,
            "condition": c.condition.slug if c.condition_id else "",
            "includes_subcodes": c.includes_subcodes,
            "source": c.source.key if c.source_id else "",
        }
        for c in ClinicalCode.objects.published().select_related("drug", "condition", "source")
        # A drug code is published only with its drug (an unpublished drug is not recognised).
        if c.drug_id is None or c.drug.is_published
    ]
    # Only the sources something published refers to travel with the release.
    snapshot["sources"] = [
        {"key": s.key, "label": s.label, "url": s.url, "kind": s.kind, "version": s.version}
        for s in Source.objects.filter(key__in=_referenced_source_keys(snapshot)).order_by("key")
    ]
    return snapshot


def _referenced_source_keys(snapshot: dict[str, Any]) -> set[str]:
    keys: set[str] = set()
    for ind in snapshot["indications"]:
        keys.update(ind["sources"])
        for item in (*ind["caveats"], *ind["guidelines"]):
            keys.update(item["sources"])
    for note in (*snapshot["safety_notes"], *snapshot.get("patient_notes", ())):
        keys.update(note["sources"])
    for group in ("labelled_limits", "regimens", "renal_rules", "hepatic_rules"):
        for item in snapshot[group]:
            keys.update(item["sources"])
    for drug in snapshot["drugs"]:
        keys.update(drug["name_sources"].values())
    keys.update(c["source"] for c in snapshot.get("codes", ()) if c["source"])
    for group in FLAG_GROUPS:
        for item in snapshot[group]:
            if item["flag"]:
                keys.update(item["flag"]["sources"])
    return keys


def content_hash(snapshot: dict[str, Any]) -> str:
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


DRAFT_VERSION = "draft"

_lock = threading.Lock()
_loaded: dict[tuple[int, str], Catalogue] = {}


class ReleaseIntegrityError(Exception):
    """A release whose stored content no longer matches its content hash: it is refused, never served."""

    def __init__(self, version: str):
        super().__init__(
            f"Catalogue release {version} failed its integrity check: its stored content does not match"
            " its content hash, or the release its signature. It is not used; an administrator must"
            " investigate."
        )
        self.version = version


SIGNED_FIELDS = (
    "number",
    "version",
    "content_hash",
    "published_by_id",
    "change_summary",
    "clinical_changes",
    "editorial_state_hash",
)


def release_signature(fields: dict[str, Any], key: str) -> str:
    """HMAC-SHA256 of what a release says, keyed outside the database."""
    message = json.dumps([fields[name] for name in SIGNED_FIELDS], sort_keys=True, ensure_ascii=False)
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign_release(fields: dict[str, Any]) -> str:
    return release_signature(fields, settings.CATALOGUE_SIGNING_KEY)


def _signature_ok(fields: dict[str, Any]) -> bool:
    if not fields["signature"]:
        # Published before releases were signed: trusted only while no signed release precedes it
        # (a release inserted unsigned after the first signed one is refused).
        return not CatalogueRelease.objects.filter(number__lt=fields["number"]).exclude(signature="").exists()
    keys = [settings.CATALOGUE_SIGNING_KEY, *settings.CATALOGUE_SIGNING_KEY_FALLBACKS]
    return any(hmac.compare_digest(release_signature(fields, key), fields["signature"]) for key in keys)


def release_is_genuine(fields: dict[str, Any]) -> bool:
    """Whether a release's signed fields (``SIGNED_FIELDS`` and ``signature``) verify."""
    return _signature_ok(fields)


def verified_baseline(release: CatalogueRelease) -> dict[str, Any] | None:
    """The editorial state a release stores, once the release and that state are verified (the
    baseline of the next review must be what was really published)."""
    verified_snapshot(release.pk, release.version, release.content_hash)
    state = release.editorial_state
    if state is not None and content_hash(state) != release.editorial_state_hash:
        raise ReleaseIntegrityError(release.version)
    return state


def verified_snapshot(release_id: int, version: str, digest: str) -> dict[str, Any]:
    """A release's snapshot as read from the database, refused unless it matches its content hash and
    the release its signature."""
    fields = CatalogueRelease.objects.values("snapshot", "signature", *SIGNED_FIELDS).get(pk=release_id)
    if content_hash(fields["snapshot"]) != digest or fields["content_hash"] != digest:
        raise ReleaseIntegrityError(version)
    if not _signature_ok(fields):
        raise ReleaseIntegrityError(version)
    return fields["snapshot"]


def catalogue_for_release(release_id: int, version: str, digest: str) -> Catalogue:
    """The engine catalogue of one release, parsed once per process (keyed by id and content hash,
    so a reused id can never serve other content), its content verified against its hash when read."""
    key = (release_id, digest)
    catalogue = _loaded.get(key)
    if catalogue is None:
        catalogue = Catalogue.from_snapshot(verified_snapshot(release_id, version, digest), version=version)
        with _lock:
            if len(_loaded) > 8:  # keep the newest few; old releases are rarely asked for
                _loaded.pop(min(_loaded))
            _loaded[key] = catalogue
    current_release.set(version)  # named in the request's log line
    return catalogue


def head_release() -> tuple[int, str, str] | None:
    """The newest release's id, version and content hash (one query), or None."""
    return CatalogueRelease.objects.order_by("-number").values_list("pk", "version", "content_hash").first()


def published_catalogue() -> Catalogue | None:
    """The newest release as an engine catalogue, or None when nothing has been published."""
    head = head_release()
    if head is None:
        return None
    return catalogue_for_release(*head)


def draft_catalogue() -> Catalogue:
    """The editorial tables as they would be published now (for previews and checks)."""
    return Catalogue.from_snapshot(build_snapshot(), version=DRAFT_VERSION)
