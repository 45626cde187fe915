"""The JSON form of an assessment (shared/api-contract.md, v1 with its v1.1 additions).

Numbers come from the engine's Assessment; every text, label and citation comes from the one
presentation step, as on the intake page and the summary sheet. Members are only ever added within
v1, never renamed or removed.
"""

from __future__ import annotations

from typing import Any

from .engine import calculators
from .engine.assess import Assessment, IndicationResult
from .engine.presentation import Link, Presentation
from .engine.renal import Estimate

API_VERSION = "1"


def _links(items: tuple[Link, ...]) -> list[dict[str, str]]:
    return [{"label": link.label, "url": link.url} for link in items]


def _method(method: calculators.Method) -> dict[str, Any]:
    return {
        "formula": method.formula,
        "formula_source": {"label": method.source_label, "url": method.source_url},
    }


FORMULAS = {
    "cockcroft-gault": calculators.COCKCROFT_GAULT,
    "cockcroft-gault-adjusted-weight": calculators.COCKCROFT_GAULT_ADJUSTED,
    "ckd-epi-2021-deindexed": calculators.CKD_EPI_2021,
    "egfr-lab-deindexed": calculators.CKD_EPI_2021,  # the de-indexing step
}


def _estimate(estimate: Estimate) -> dict[str, Any]:
    data: dict[str, Any] = {"method": estimate.method, "crcl_ml_min": estimate.shown, "band": estimate.band}
    if estimate.weight is not None:
        data["weight"] = estimate.weight
        data["weight_kg"] = round(estimate.weight_kg, 1)
    if estimate.indexed_ml_min_1_73m2 is not None:
        data["egfr_ml_min_1_73m2"] = round(estimate.indexed_ml_min_1_73m2, 1)
    return data


def renal_json(assessment: Assessment) -> dict[str, Any]:
    renal = assessment.renal
    data: dict[str, Any] = {"crcl_ml_min": renal.crcl_shown, "band": renal.band, "method": renal.method}
    if renal.method == "unknown":
        data["estimates"] = []
        return data
    data["chosen_by"] = renal.chosen_by or "only-estimate"
    if renal.method == "dialysis":
        data["estimates"] = [{"method": "dialysis", "crcl_ml_min": None, "band": renal.band}]
        return data
    data["estimates"] = [_estimate(e) for e in renal.estimates]
    egfr = renal.estimate("egfr-lab-deindexed") or renal.estimate("ckd-epi-2021-deindexed")
    if egfr is not None:  # v1 member, kept
        data["ckd_epi_2021"] = {
            "egfr_ml_min": egfr.shown,
            "band": egfr.band,
            "egfr_from": egfr.source,
            "bsa_m2": round(renal.bsa_m2, 2) if renal.bsa_m2 else None,
            "formula": calculators.CKD_EPI_2021.formula,
        }
    if renal.method in FORMULAS:
        data.update(_method(FORMULAS[renal.method]))
    for key, value in (
        ("bmi_kg_m2", renal.bmi),
        ("bsa_m2", renal.bsa_m2),
        ("ideal_body_weight_kg", renal.ideal_weight_kg),
        ("adjusted_body_weight_kg", renal.adjusted_weight_kg),
    ):
        if value is not None:
            data[key] = round(value, 2 if key == "bsa_m2" else 1)
    return data


def hepatic_json(assessment: Assessment) -> dict[str, Any]:
    hepatic = assessment.hepatic
    data: dict[str, Any] = {
        "child_pugh_class": hepatic.child_pugh_class,
        "child_pugh_score": hepatic.child_pugh_score,
        "method": hepatic.method,
    }
    if hepatic.method == "child-pugh-score":
        data["formula"] = f"{calculators.CHILD_PUGH.formula}. {calculators.ALBUMIN_BAND_NOTE}"
    return data


def dose_json(assessment: Assessment, view: Presentation) -> dict[str, Any]:
    dose = assessment.dose
    return {
        "formulation": dose.formulation,
        "start_mg_per_day": dose.start_mg_per_day,
        "max_mg_per_day": dose.max_mg_per_day,
        "regimen": dose.regimen,
        "titration": dose.titration,
        "standard": dose.standard,
        "verdict": dose.verdict,
        "verdict_reasons": list(dose.verdict_reasons),
        "renal_confirmed": dose.renal_confirmed,
        "heading": view.dose.heading,
        "basis": [{"text": n.text, "sources": _links(n.sources)} for n in view.dose.basis],
    }


def medications_json(assessment: Assessment, view: Presentation) -> list[dict[str, Any]]:
    items = []
    for match, line in zip(assessment.medications, view.medications, strict=True):
        drug = match.drug
        item: dict[str, Any] = {
            "entered": match.entered,
            "recognized": match.recognised,
            "generic_name": drug.name if drug else (match.product.name if match.product else None),
            "classes": list(line.class_names),  # class names, as in v1
            "recognized_as": line.recognised_as,
        }
        if match.product is not None or len(match.drugs) > 1:
            item["components"] = [
                {"generic_name": name, "classes": list(names)} for name, names in line.components
            ]
        if match.recognised and match.unrecognised:
            item["not_checked"] = [u.text for u in match.unrecognised]
        items.append(item)
    return items


# What `statistics` says for a study of a release published before statistics were recorded.
NOT_REPORTED = "not recorded in this catalogue release"


def indication_json(card, result: IndicationResult) -> dict[str, Any]:
    ind = result.indication
    details = [{"text": c.text, "sources": _links(c.sources)} for c in card.caveats]
    if card.review_overdue:
        overdue = card.review_overdue
        text = f"{overdue.title} {overdue.detail}".strip()
        details.insert(0, {"text": text, "sources": _links(overdue.sources)})
    caveats = [d["text"] for d in details]
    sources = list(card.sources)
    for caveat in card.caveats:
        sources += [s for s in caveat.sources if s not in sources]
    return {
        "slug": card.slug,
        "name": card.name,
        "status": card.status,
        "category": card.category,
        "therapeutic_role": ind.therapeutic_role,
        "evidence": {
            "strength": ind.evidence.strength,
            "efficacy": ind.evidence.efficacy,
            "recommendation": ind.evidence.recommendation,
        },
        "summary": card.summary,
        "mechanism_rationale": card.mechanism_rationale,
        "dose_studied": card.dose_studied,
        "dose_studied_range": (
            {"min_mg_per_day": ind.dose_studied_range[0], "max_mg_per_day": ind.dose_studied_range[1]}
            if ind.dose_studied_range
            else None
        ),
        "studied_above_cap": result.studied_above_cap,
        "caveats": caveats,
        "notes": list(card.notes),
        "studies": [
            {
                "citation": s.citation,
                "design": s.design,
                "participants": s.participants,
                "n": s.participants,
                "dose": s.dose,
                "dose_studied": s.dose,
                "duration": s.duration,
                "result": s.result,
                "finding": s.finding,
                "statistics": s.statistics or NOT_REPORTED,
                "pmid": study.pmid or None,
                "doi": study.doi or None,
                "url": s.url,
            }
            for s, study in zip(card.studies, ind.studies, strict=True)
        ],
        "guidelines": [
            {
                "body": g.body,
                "title": g.title,
                "year": g.year,
                "position": g.position,
                "statement": g.statement,
                "sources": _links(g.sources),
            }
            for g in card.guidelines
        ],
        "clinical_significance": card.clinical_significance,
        "evidence_gaps": [{"element": e, "reason": reason} for e, _, reason in card.evidence_gaps],
        "caveat_details": details,
        "safety": [{"text": n.text, "sources": _links(n.sources)} for n in card.safety],
        "sources": _links(tuple(sources)),
        "last_reviewed": card.last_reviewed,
        "next_review_due": card.next_review_due or None,
        "review_overdue": card.review_overdue is not None,
    }


def assessment_json(assessment: Assessment, view: Presentation) -> dict[str, Any]:
    return {
        "api_version": API_VERSION,
        "catalogue_version": assessment.catalogue_version,
        "region": assessment.region,
        "inputs_used": assessment.inputs_used,
        "inputs_missing": [{"field": m.field, "message": m.message} for m in assessment.inputs_missing],
        "renal": renal_json(assessment),
        "hepatic": hepatic_json(assessment),
        "dose": dose_json(assessment, view),
        "flags": [
            {
                "code": f.code,
                "severity": f.severity,
                "title": f.title,
                "detail": f.detail,
                "triggers": list(f.triggers),
                "sources": _links(f.sources),
            }
            for f in view.flags
        ],
        "medications": medications_json(assessment, view),
        "unrecognized_medications": list(assessment.unrecognized_medications),
        "medication_suggestions": assessment.medication_suggestions,
        "indications": [
            indication_json(card, result)
            for card, result in zip(view.indications, assessment.indications, strict=True)
        ],
    }
