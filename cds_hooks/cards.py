"""The one presentation, rendered as CDS Hooks cards. No rule of its own: every statement comes from
``indications.engine.present`` (catalogue text, verdict words, renal lines, sources) or from the
record as ``cds_hooks.fhir`` read it.

One card per thing worth interrupting for:

- the dose card, when the verdict is not standard or the order needs a look (above this patient's
  maximum, a dose that cannot be read, a first order above the starting dose, memantine more than
  once): the dose, every flag that acts on it, the order against the maximum (never "within" a
  maximum that does not exist or is not confirmed) and, for a draft order above a confirmed maximum,
  a suggestion that updates it to the capped regimen in a product that can give it;
- each other critical or warning flag;
- the info flags together, in one card.
The record's values and what was missing ride on the first card. A patient under the adult age gets
one card and no dose (``minor_card``); an order naming no medication, a card saying so
(``unidentified_card``).

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
from indications.engine.catalogue import Catalogue
from indications.engine.checks import regimen_doses
from indications.engine.factors import LIMITS, RenalEstimate
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
ABOUT = "About this service and its limits"
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
    # After "#": the browser fills the form from it (static/app/intake.js); a fragment is never sent to
    # a server, so the values reach no proxy's or server's log.
    return {
        "label": "Open in memantine decision support (values from the record filled in)",
        "url": f"{context.intake_url}#{urlencode(params)}",
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


# What was not given, in the words of a record rather than a form.
RECORD_MISSING = {
    "medications": "No active medication in the record: no interaction was checked.",
    "conditions": (
        "No condition in the record that the catalogue's codes recognise (SNOMED CT exactly, ICD-10 with its"
        " subcodes): condition checks assume none apply. A condition coded otherwise is not seen."
    ),
    "hepatic": (
        "Hepatic function is not read from the record (no Child-Pugh class): no hepatic rule was applied."
    ),
}


MAX_LINES = 25  # of one list on a card; the rest is counted, not shown (the record may be long)
MAX_LINE = 300  # characters of one line taken from the record


def _listed(title: str, items: Iterable[str]) -> list[str]:
    items = list(dict.fromkeys(items))
    if not items:
        return []
    shown = [md(item[:MAX_LINE] + ("…" if len(item) > MAX_LINE else "")) for item in items[:MAX_LINES]]
    more = [f"{len(items) - MAX_LINES} more not listed."] if len(items) > MAX_LINES else []
    return ["", f"**{title}**", *_bullets([*shown, *more])]


def _used_lines(mapped: Mapped) -> list[str]:
    return _listed("Values from the record", mapped.used)


def _record_lines(assessment: Assessment, view: Presentation, context: CardContext) -> list[str]:
    mapped = context.mapped
    lines = _used_lines(mapped)
    missing = list(mapped.not_used)
    renal = assessment.factors.renal
    for item in assessment.inputs_missing:
        if item.field == "renal" and not assessment.renal.given:
            missing.append(
                "Renal function could not be estimated from the record: the dose is not confirmed."
            )
        elif item.field == "renal" and isinstance(renal, RenalEstimate) and not renal.has_creatinine:
            missing.append(
                "No usable serum creatinine in the record: Cockcroft-Gault, the clearance the label uses,"
                " was not calculated."
            )
        else:
            missing.append(RECORD_MISSING.get(item.field, item.message))
    return lines + _listed("Missing, stale or not used", missing)


def minor_card(mapped: Mapped, context: CardContext, version: str) -> dict[str, Any]:
    """A patient under the adult age the engine assesses: no dose, and why."""
    low = LIMITS["age_years"].low
    detail = [
        f"**No dose is shown.** The patient is {md(number(mapped.minor_age))} years old; this service"
        f" assesses adults ({md(number(low))} years and over).",
        *_used_lines(mapped),
        "",
        f"Catalogue release {md(version)} · {md_link(Link(ABOUT, context.about_url))}",
    ]
    return {
        "uuid": str(uuid.uuid4()),
        "summary": summary(
            f"Memantine: patient aged {number(mapped.minor_age)}; this service assesses adults only:"
            " no dose shown"
        ),
        "indicator": "warning",
        "detail": "\n".join(detail),
        "source": {"label": f"Memantine decision support, catalogue {version}", "url": context.about_url},
        "overrideReasons": [
            {"code": code, "system": OVERRIDE_SYSTEM, "display": display}
            for code, display in OVERRIDE_REASONS
        ],
    }


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


def _product(subject: Subject, amount: float, catalogue: Catalogue) -> dict[str, Any] | None:
    """The medication a suggestion orders: the draft's own when one dose of it can be measured (an
    oral solution, or the same strength), else the catalogue's product of this strength, formulation
    and drug (memantine, or memantine with donepezil); None when there is not exactly one."""
    if subject.solution or subject.unit_strength == amount:
        return {}
    strength = re.compile(rf"memantine[^/]*?\b{re.escape(number(amount))} MG\b", re.IGNORECASE)
    found = [
        c
        for c in catalogue.codes
        if c.means == "drug"
        and c.system == "rxnorm"
        and c.drug == subject.drug
        and c.formulation == subject.formulation
        and "pack" not in c.display.lower()
        and strength.search(c.display)
    ]
    if len(found) != 1:
        return None
    code = found[0]
    return {
        "coding": [{"system": vocab.CODE_SYSTEM_URIS["rxnorm"], "code": code.code, "display": code.display}],
        "text": code.display,
    }


def _suggestion(
    subject: Subject, assessment: Assessment, view: Presentation, catalogue: Catalogue
) -> tuple[dict[str, Any] | None, str]:
    """Update the draft order to the regimen this patient may have, and the product that gives it;
    (None, why) when that cannot be written (the card then says to change the order by hand)."""
    maximum = assessment.dose.max_mg_per_day
    doses = regimen_doses(assessment.dose.regimen)
    if subject.resource is None or not subject.reference or maximum is None or doses is None:
        return None, "the regimen cannot be written as one dose and a frequency"
    amount, times = doses
    if amount * times > maximum:
        return None, "the regimen is above the maximum"
    medication = _product(subject, amount, catalogue)
    if medication is None:
        return (
            None,
            f"no single product of {number(amount)} mg is in the catalogue's codes for {subject.name}",
        )
    resource = copy.deepcopy(dict(subject.resource))
    if medication:
        resource.pop("medicationReference", None)
        resource["medicationCodeableConcept"] = medication
    resource["dosageInstruction"] = [
        {
            "text": assessment.dose.regimen,
            "timing": {"repeat": {"frequency": times, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {"value": amount, "unit": "mg", "system": UCUM, "code": "mg"}}],
        }
    ]
    product = f" as {medication['text']}" if medication else ""
    label = summary(f"Change the order to {assessment.dose.regimen} (maximum {view.dose.maximum})")
    return {
        "label": label,
        "uuid": str(uuid.uuid4()),
        "isRecommended": True,
        "actions": [
            {
                "type": "update",
                "description": f"Order {subject.name[:80]} as {assessment.dose.regimen}{product[:200]}.",
                "resource": resource,
            }
        ],
    }, ""


@dataclass
class OrderCheck:
    """What the memantine orders (or current memantine) say against this patient's dose."""

    lines: list[str]
    suggestions: list[dict[str, Any]]
    above: bool = False  # a daily dose above the maximum shown
    above_label: bool = False  # above even the labelled maximum of the formulation
    unread: bool = False  # an order whose daily dose could not be read
    new_start: Subject | None = None  # a first order above the labelled starting dose


def _check_orders(assessment: Assessment, view: Presentation, context: CardContext, catalogue) -> OrderCheck:
    check = OrderCheck([], [])
    mapped = context.mapped
    dose = assessment.dose
    maximum = dose.max_mg_per_day
    confirmed = not view.dose.not_confirmed
    regimen = catalogue.regimen(assessment.region, assessment.formulation)
    labelled = regimen.max_mg_per_day if regimen else None
    # Every memantine the patient would take: the orders, and (order hooks) what the record lists.
    current = [s for s in mapped.memantine_in_record if s not in mapped.subjects]
    together = [*mapped.subjects, *current]
    for subject in mapped.subjects:
        what = (
            f"The order for {md(subject.name)}"
            if subject.is_order
            else f"Current memantine, {md(subject.name)}"
        )
        said = f" (“{md(subject.dose_text)}”)" if subject.dose_text else ""
        daily = subject.daily_mg
        if daily is None:
            against = (
                f" against this patient's maximum, {md(view.dose.maximum)}" if maximum and confirmed else ""
            )
            check.lines.append(f"- {what}{said}: its daily dose could not be read; check it{against}.")
            check.unread = check.unread or subject.is_order
        elif maximum is None:
            check.lines.append(
                f"- {what}: {md(number(daily))} mg/day. There is no labelled dose for this patient: it"
                " cannot be checked against a maximum."
            )
        elif not confirmed:
            line = (
                f"- {what}: {md(number(daily))} mg/day. This patient's maximum is not confirmed"
                f" ({md(view.dose.not_confirmed[0])})"
            )
            if daily > maximum:
                check.above = True
                line += f"; it is above even the unadjusted maximum, {md(view.dose.maximum)}"
            check.lines.append(line + ".")
        elif len(together) > 1:
            check.above = check.above or daily > maximum
            check.lines.append(f"- {what}: {md(number(daily))} mg/day on its own.")
        else:
            above = daily > maximum
            check.above = check.above or above
            where = "above" if above else "within"
            check.lines.append(
                f"- {what}: {md(number(daily))} mg/day, {where} this patient's maximum,"
                f" {md(view.dose.maximum)}."
            )
        if daily is not None and labelled is not None and daily > labelled:
            check.above_label = True
        if subject.formulation != assessment.formulation:
            check.lines.append(
                f"- {what} is {md(vocab.FORMULATIONS[subject.formulation].lower())}; the dose above is for"
                f" {md(vocab.FORMULATIONS[assessment.formulation].lower())}. Check the product."
            )
        wanted = (
            subject.is_order and daily is not None and maximum is not None and confirmed and daily > maximum
        )
        alone = len(together) == 1
        if wanted and alone and subject.formulation_known and subject.formulation == assessment.formulation:
            suggestion, why = _suggestion(subject, assessment, view, catalogue)
            if suggestion is not None:
                check.suggestions.append(suggestion)
            else:
                check.lines.append(f"- No change is suggested ({md(why)}): change the order by hand.")
        start = dose.start_mg_per_day
        first = subject.is_order and not mapped.memantine_in_record and daily is not None
        if first and start is not None and maximum is not None and daily > start:
            check.new_start = subject
            check.lines.append(
                f"- No memantine is in the record: if this is a first order, {md(number(daily))} mg/day is"
                f" above the labelled starting dose, {md(view.dose.start)}; titrate as above."
            )
    if len(together) > 1:
        check.lines += _total_lines(together, assessment, view, check, confirmed)
    return check


def _total_lines(
    together, assessment: Assessment, view: Presentation, check: OrderCheck, confirmed
) -> list[str]:
    """Memantine more than once (several orders, or an order and what the record lists): the total."""
    names = ", ".join(md(s.name) for s in together[:4])
    maximum = assessment.dose.max_mg_per_day
    doses = [s.daily_mg for s in together]
    if None in doses:
        check.unread = True
        return [f"- Memantine more than once ({names}): the total daily dose could not be read; check it."]
    total = sum(doses)
    if maximum is None:
        return [f"- Memantine more than once ({names}): {md(number(total))} mg/day in all."]
    check.above = check.above or total > maximum
    if not confirmed:
        return [
            f"- Memantine more than once ({names}): {md(number(total))} mg/day in all; this patient's"
            " maximum is not confirmed."
        ]
    where = "above" if total > maximum else "within"
    return [
        f"- Memantine more than once ({names}): {md(number(total))} mg/day in all, {where} this"
        f" patient's maximum, {md(view.dose.maximum)}."
    ]


def unidentified_card(mapped: Mapped, context: CardContext, version: str) -> dict[str, Any]:
    """A draft order whose medication the call does not name: if it is memantine, it was not checked."""
    orders = ", ".join(md(r) for r in mapped.unidentified[:3])
    return {
        "uuid": str(uuid.uuid4()),
        "summary": "Memantine check: an order's medication could not be identified, so it was not checked",
        "indicator": "info",
        "detail": "\n".join(
            [
                f"The order {orders} names no medication this service can read (no code or text, and a"
                " Medication reference that was not sent or could not be fetched). If it is memantine, its"
                " dose was not checked for this patient.",
                "",
                f"Catalogue release {md(version)} · {md_link(Link(ABOUT, context.about_url))}",
            ]
        ),
        "source": {"label": f"Memantine decision support, catalogue {version}", "url": context.about_url},
    }


def _summary(assessment: Assessment, view: Presentation, context: CardContext, check: OrderCheck) -> str:
    dose = view.dose
    if dose.verdict in vocab.NO_DOSE_VERDICTS:
        return f"Memantine: {dose.heading}"
    if check.above:
        return f"Memantine order above this patient's maximum ({dose.maximum}): {dose.regimen}"
    if dose.verdict == "unconfirmed" and not assessment.renal.given:
        text = "Memantine: dose not confirmed: renal function could not be estimated from the record"
        return text + (" (a value was refused as implausible)" if context.mapped.refused else "")
    if dose.verdict != "standard":
        return f"Memantine: {dose.heading}: {dose.regimen} (maximum {dose.maximum})"
    if check.unread:
        return (
            f"Memantine: the order's daily dose could not be read; this patient's maximum is {dose.maximum}"
        )
    subject = check.new_start
    return (
        f"Memantine: new start at {number(subject.daily_mg)} mg/day, above the labelled starting dose"
        f" ({dose.start}): titrate"
    )


def cards(
    assessment: Assessment, view: Presentation, context: CardContext, catalogue: Catalogue
) -> list[dict[str, Any]]:
    dose = view.dose
    # Every flag that acts on the dose is told on the dose card; the others get cards of their own.
    behind = [f for f in view.flags if f.verdict != "standard"]
    behind.sort(key=lambda f: -vocab.VERDICT_RANK[f.verdict])
    behind_codes = {f.code for f in behind}
    check = _check_orders(assessment, view, context, catalogue)
    result = []
    if dose.verdict != "standard" or check.above or check.unread or check.new_start:
        detail = _dose_lines(view)
        if check.lines:
            detail += [
                "",
                "**The order**" if context.mapped.subjects[0].is_order else "**Current memantine**",
            ]
            detail += check.lines
        for flag in behind:
            detail += ["", *_flag_lines(flag)]
        detail += _renal_lines(view) + _record_lines(assessment, view, context)
        about = md_link(Link(ABOUT, context.about_url))
        detail += ["", f"Catalogue release {md(view.catalogue_version)} · {about}"]
        severities = [f.severity for f in behind]
        if dose.tone == "stop" or check.above_label:
            indicator = "critical"
        elif severities:
            indicator = min(severities, key=lambda s: vocab.SEVERITY_RANK[s])
        else:
            indicator = "warning"
        links = [s for f in behind for s in f.sources] + [s for note in dose.basis for s in note.sources]
        result.append(
            _card(
                summary_text=_summary(assessment, view, context, check),
                indicator=indicator,
                detail=detail,
                links=_sources(links),
                view=view,
                context=context,
                suggestions=check.suggestions,
            )
        )
    for flag in view.flags:
        if flag.code in behind_codes or flag.severity == "info":
            continue
        detail = _flag_lines(flag)
        if not result:  # the first card carries what the record gave; the others link to it all
            detail += _record_lines(assessment, view, context)
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
        if not result:
            detail += [*_record_lines(assessment, view, context), ""]
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
