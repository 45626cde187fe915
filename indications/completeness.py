"""How complete an off-label entry is, measured on what the API returns (not on the fixtures).

The five elements that drug references are judged by (JMLA 2023): a guideline or consensus
position, a study a clinician can open, the dose studied, the statistics of a result, and what the
result means clinically. ``completeness()`` reads one member of ``indications`` in an assessment
response; ``manage.py evidence_completeness`` prints the table for the published catalogue.
"""

from __future__ import annotations

import re
from typing import Any

from .engine.checks import is_http_url, is_search_url, reports_a_number, significance_ok
from .engine.vocabulary import GUIDELINE_POSITIONS

ELEMENTS = ("guideline", "study", "dose", "statistics", "significance")

PMID_OR_DOI_URL = re.compile(r"^https://(pubmed\.ncbi\.nlm\.nih\.gov/\d+/?|doi\.org/10\.\d{4,9}/\S+)$")


def _opens(sources: list[dict[str, Any]]) -> bool:
    return any(is_http_url(s.get("url")) and not is_search_url(s["url"]) for s in sources or [])


def completeness(indication: dict[str, Any]) -> dict[str, bool]:
    """Which of the five elements one API indication has."""
    guidelines = indication.get("guidelines") or []
    studies = indication.get("studies") or []
    dose = indication.get("dose_studied_range") or {}
    return {
        "guideline": any(
            g.get("position") in GUIDELINE_POSITIONS
            and (g.get("statement") or "").strip()
            and _opens(g.get("sources"))
            for g in guidelines
        ),
        "study": any(PMID_OR_DOI_URL.match(s.get("url") or "") for s in studies),
        "dose": isinstance(dose.get("min_mg_per_day"), int) and isinstance(dose.get("max_mg_per_day"), int),
        "statistics": any(reports_a_number(s.get("statistics")) for s in studies),
        "significance": significance_ok(indication.get("clinical_significance")),
    }


def declared_gaps(indication: dict[str, Any]) -> set[str]:
    """Elements the entry tells the clinician could not be verified (each with its reason)."""
    return {g["element"] for g in indication.get("evidence_gaps") or [] if (g.get("reason") or "").strip()}
