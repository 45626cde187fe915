"""The one presentation, rendered as CDS Hooks cards. No rule of its own: every statement comes from
``indications.engine.present`` (catalogue text, verdict words, renal lines, sources) or from the
record as ``cds_hooks.fhir`` read it.

One card per thing worth interrupting for:

- the dose verdict when it is not standard, carrying the flags behind it (the renal cap, a
  not-recommended rule, dialysis, renal function unknown) and, for a draft order above the dose this
  patient may have, a suggestion that updates the order to that regimen; a draft order above the
  maximum is a card even under a standard verdict;
- each other critical or warning flag;
- the info flags together, in one card.

Catalogue and record text is Markdown-escaped (an EHR may render raw HTML: the sandbox does); links
are http(s) only. Optional members are left out, never null or empty. Pure: no Django.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from indications.engine import Assessment, Presentation
from indications.engine import vocabulary as vocab
from indications.engine.checks import regimen_doses
from indications.engine.presentation import FlagView, Link

from .fhir import Mapped, Subject, number

SUMMARY_MAX = 139  # "one-sentence, <140-character summary"
OVERRIDE_SYSTEM = "urn:x-memantine-cds:override-reason"
OVERRIDE_REASONS = (
    ("already-addressed", "Already addressed"),
    ("not-applicable", "Not applicable to this patient"),
    ("benefit-outweighs-risk", "Benefit outweighs the risk for this patient"),
)
UCUM = "http://unitsofmeasure.org"
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>&])")


def md(text: str) -> str:
    """Text as literal Markdown: one line, every character GFM could read as markup escaped."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(text).split()))


def md_link(link: Link) -> str:
    """ "[label](url)" for an http(s) address; the label alone for anything else."""
    if not re.match(r"https?://", link.url or "", re.IGNORECASE):
        return md(link.label)
    url = quote(link.url, safe=":/?#@!$&'*+,;=%-._~")
    return f"[{md(link.label)}]({url.replace('(', '%28').replace(')', '%29')})"


def summary(text: str) -> str:
    """One line under 140 characters (cut at a word, marked with an ellipsis)."""
    text = " ".join(text.split())
    if len(text) <= SUMMARY_MAX:
        return text
    cut = text[: SUMMARY_MAX - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def _bullets(lines: Iterable[str]) -> list[str]:
    return [f"- {line}" for line in lines]


def _sources(links: Iterable[Link]) -> list[Link]:
    seen: dict[str, Link] = {}
    for link in links:
        if link.url not in seen:
            seen[link.url] = link
    return list(seen.values())


@dataclass(frozen=True)
class CardContext:
    """What the cards need besides the assessment: the record as read, and where the app is."""

    mapped: Mapped
    intake_url: str  # the app's intake page (absolute)
    about_url: str  # the app's page on what it is and its limits (absolute)


def intake_link(context: CardContext) -> dict[str, str]:
    """A link to the intake page with the record's values filled in (the clinician can change them)."""
    request = context.mapped.request
    params: list[tuple[str, str]] = [("region", request.get("region", "us"))]
    params.append(("formulation", request.get("formulation", "ir")))
    for key, value in (request.get("renal") or {}).items():
        if key == "dialysis":
            params.append(("dialysis", "on"))
        else:
            params.append((key, value if isinstance(value, str) else number(float(value))))
    if request.get("medications"):
        params.append(("medications", "\n".join(request["medications"])))
    params.extend(("conditions", slug) for slug in request.get("conditions", ()))
    return {
        "label": "Open in memantine decision support (values from the record filled in)",
        "url": f"{context.intake_url}?{urlencode(params)}",
        "type": "absolute",
    }


def _source(links: Sequence[Link], view: Presentation, context: CardContext) -> dict[str, str]:
    for link in links:
        if re.match(r"https?://", link.url or "", re.IGNORECASE):
            return {"label": link.label[:200], "url": link.url}
    return {
        "label": f"Memantine decision support, catalogue {view.catalogue_version}",
        "url": context.about_url,
    }


def _card(
    *,
    summary_text: str,
    indicator: str,
    detail: list[str],
    links: Sequence[Link],
    view,
    context,
    suggestions=(),
) -> dict[str, Any]:
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": summary(summary_text),
        "indicator": indicator,
        "detail": "\n".join(detail),
        "source": _source(links, view, context),
        "links": [intake_link(context)],
    }
    if suggestions:
        card["suggestions"] = list(suggestions)
        card["selectionBehavior"] = "at-most-one"
    if indicator != "info":
        card["overrideReasons"] = [
            {"code": code, "system": OVERRIDE_SYSTEM, "display": display}
            for code, display in OVERRIDE_REASONS
        ]
    return card


def _flag_lines(flag: FlagView) -> list[str]:
    lines = [f"**{md(flag.severity_label)}: {md(flag.title)}**", "", md(flag.detail)]
    if flag.triggers:
        lines += ["", "Because of: " + ", ".join(md(t) for t in flag.triggers)]
    if flag.sources:
        lines += ["", "Sources: " + ", ".join(md_link(s) for s in flag.sources)]
    return lines


def _record_lines(view: Presentation, context: CardContext) -> list[str]:
    mapped = context.mapped
    lines: list[str] = []
    if mapped.used:
        lines += ["", "**Values from the record**", *_bullets(md(u) for u in mapped.used)]
    missing = [*mapped.not_used, *view.missing]
    if missing:
        lines += ["", "**Missing, stale or not used**", *_bullets(md(m) for m in dict.fromkeys(missing))]
    return lines


def _renal_lines(view: Presentation) -> list[str]:
    dose = view.dose
    lines = ["", "**Renal function**", f"- {md(dose.renal_line)}"]
    if dose.renal_inputs:
        lines.append(f"- From: {md(dose.renal_inputs)}")
    for estimate in dose.estimates:
        used = " (the dose follows this one)" if estimate.used else ""
        gives = f": {md(estimate.gives)}" if estimate.gives else ""
        lines.append(
            f"- {md(estimate.label)} {md(estimate.value)}, {md(estimate.band_label)}{gives}{md(used)}"
        )
    if dose.renal_choice:
        lines.append(f"- {md(dose.renal_choice)}")
    for formula in view.formulas:
        lines.append(f"- {md(formula.name)}: {md(formula.formula)} ({md_link(formula.source)})")
    if dose.hepatic_line != "not given":
        lines.append(f"- Hepatic: {md(dose.hepatic_line)}")
    return lines


def _dose_lines(view: Presentation) -> list[str]:
    dose = view.dose
    if not dose.shows_dose:
        return [f"**{md(dose.heading)}.** No dose is shown for this patient."]
    return [
        f"**{md(dose.heading)}** ({md(dose.formulation_label)}): {md(dose.regimen)}",
        "",
        f"- Start: {md(dose.start)}; maximum: {md(dose.maximum)}",
        f"- Titration: {md(dose.titration)}",
        *(f"- {md(line)}" for line in dose.confirmations),
    ]


def _suggestion(subject: Subject, assessment: Assessment, view: Presentation) -> dict[str, Any] | None:
    """Update the draft order to the regimen this patient may have, when the regimen is one dose with
    its frequency that the maximum allows (else no suggestion: the card says to check the order)."""
    maximum = assessment.dose.max_mg_per_day
    doses = regimen_doses(assessment.dose.regimen)
    if subject.resource is None or maximum is None or doses is None or not subject.reference:
        return None
    amount, times = doses
    if amount * times > maximum:
        return None
    resource = copy.deepcopy(dict(subject.resource))
    resource["dosageInstruction"] = [
        {
            "text": assessment.dose.regimen,
            "timing": {"repeat": {"frequency": times, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {"value": amount, "unit": "mg", "system": UCUM, "code": "mg"}}],
        }
    ]
    label = summary(f"Change the order to {assessment.dose.regimen} (maximum {view.dose.maximum})")
    return {
        "label": label,
        "uuid": str(uuid.uuid4()),
        "isRecommended": True,
        "actions": [
            {
                "type": "update",
                "description": f"Set the dose of {subject.name[:80]} to {assessment.dose.regimen}.",
                "resource": resource,
            }
        ],
    }


def _order_lines(
    subjects: Sequence[Subject], assessment: Assessment, view: Presentation
) -> tuple[list[str], list]:
    """What each memantine order says against this patient's maximum, and the suggestions to fix it."""
    lines: list[str] = []
    suggestions = []
    maximum = assessment.dose.max_mg_per_day
    for subject in subjects:
        if subject.daily_mg is None:
            said = f" (“{md(subject.dose_text)}”)" if subject.dose_text else ""
            lines.append(
                f"- The order for {md(subject.name)}{said}: its daily dose could not be read; check it."
            )
        else:
            above = maximum is not None and subject.daily_mg > maximum
            where = "above" if above else "within"
            cap = f" {md(view.dose.maximum)}" if maximum is not None else ""
            lines.append(
                f"- The order for {md(subject.name)}: {md(number(subject.daily_mg))} mg/day, {where} this"
                f" patient's maximum{cap}."
            )
        if maximum is not None and (subject.daily_mg is None or subject.daily_mg > maximum):
            found = _suggestion(subject, assessment, view)
            if found is not None:
                suggestions.append(found)
    return lines, suggestions


def _over_maximum(subjects: Sequence[Subject], assessment: Assessment) -> bool:
    maximum = assessment.dose.max_mg_per_day
    return maximum is not None and any(s.daily_mg is not None and s.daily_mg > maximum for s in subjects)


def cards(assessment: Assessment, view: Presentation, context: CardContext) -> list[dict[str, Any]]:
    dose = view.dose
    subjects = context.mapped.subjects
    if dose.verdict in vocab.NO_DOSE_VERDICTS:
        behind = [f for f in view.flags if f.verdict == dose.verdict]
    else:
        behind = [f for f in view.flags if f.verdict == dose.verdict and dose.verdict != "standard"]
    behind_codes = {f.code for f in behind}
    result = []
    over = _over_maximum(subjects, assessment)
    if dose.verdict != "standard" or over:
        order_lines, suggestions = _order_lines(subjects, assessment, view)
        detail = _dose_lines(view)
        if order_lines:
            detail += ["", "**The order**", *order_lines]
        for flag in behind:
            detail += ["", *_flag_lines(flag)]
        detail += _renal_lines(view) + _record_lines(view, context)
        about = md_link(Link("About this service and its limits", context.about_url))
        detail += ["", f"Catalogue release {md(view.catalogue_version)} · {about}"]
        severities = [f.severity for f in behind]
        if severities:
            indicator = min(severities, key=lambda s: vocab.SEVERITY_RANK[s])
        else:
            indicator = "critical" if dose.tone == "stop" else "warning"
        text = f"Memantine: {dose.heading}"
        if dose.shows_dose and dose.verdict != "standard":
            text += f": {dose.regimen} (maximum {dose.maximum})"
        if over:
            text = f"Memantine order above this patient's maximum ({dose.maximum}): {dose.regimen}"
        links = [s for f in behind for s in f.sources] + [s for note in dose.basis for s in note.sources]
        result.append(
            _card(
                summary_text=text,
                indicator=indicator,
                detail=detail,
                links=_sources(links),
                view=view,
                context=context,
                suggestions=suggestions,
            )
        )
    for flag in view.flags:
        if flag.code in behind_codes or flag.severity == "info":
            continue
        detail = _flag_lines(flag) + _record_lines(view, context)
        detail += ["", f"Catalogue release {md(view.catalogue_version)}"]
        result.append(
            _card(
                summary_text=f"Memantine: {flag.title}",
                indicator=flag.severity,
                detail=detail,
                links=_sources(flag.sources),
                view=view,
                context=context,
            )
        )
    info = [f for f in view.flags if f.severity == "info" and f.code not in behind_codes]
    if info:
        detail = []
        for flag in info:
            detail += [*_flag_lines(flag), ""]
        detail += [f"Catalogue release {md(view.catalogue_version)}"]
        titles = "; ".join(f.title for f in info)
        plural = "s" if len(info) > 1 else ""
        result.append(
            _card(
                summary_text=f"Memantine: {len(info)} note{plural}: {titles}",
                indicator="info",
                detail=detail,
                links=_sources(s for f in info for s in f.sources),
                view=view,
                context=context,
            )
        )
    return result
