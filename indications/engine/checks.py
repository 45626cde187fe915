"""Integrity checks on catalogue content that are pure logic (shared by admin validation and
``check_catalogue``)."""

from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from .catalogue import normalise_name
from .vocabulary import (
    CLINICAL_FIELDS,
    CONTROLLED_DESIGNS,
    GAP_ELEMENTS,
    GUIDELINE_POSITIONS,
    PATIENT_TOPICS,
    REQUIRED_PATIENT_TOPICS,
    REQUIRED_STANDARD_FLAGS,
    RULE_VERDICTS,
    SEVERITIES,
    STUDY_DESIGNS,
    STUDY_RESULTS,
    VERDICT_RANK,
)

# The snapshot's groups of rules that can raise a flag.
FLAG_GROUPS = ("renal_rules", "hepatic_rules", "condition_rules", "interaction_rules", "standard_flags")

# What makes a link a search rather than a document: a query parameter that carries search words, a
# command that runs a search, a path segment that names a search or a results list, a fragment query.
SEARCH_PARAMETERS = frozenset(
    {"q", "as_q", "query", "term", "terms", "keywords", "criteria", "allfield", "cond", "drug_name", "text"}
)
SEARCH_PARAMETER_WORDS = ("search", "term", "query")
SEARCH_SEGMENTS = frozenset({"search", "results", "advanced", "scholar_lookup", "query.fcgi", "esearch.fcgi"})
DOCUMENT_HOSTS = frozenset({"doi.org", "dx.doi.org"})  # a DOI path is an identifier, whatever its words


def is_search_url(url: str) -> bool:
    """True for a link to a search (PubMed ?term=, DailyMed search.cfm, registry result lists, any
    ?q=) rather than to the document a clinician should open."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    if host not in DOCUMENT_HOSTS:
        for segment in parts.path.lower().split("/"):
            stem = (
                segment.rsplit(".", 1)[0] if segment.endswith((".cfm", ".json", ".html", ".php")) else segment
            )
            if stem in SEARCH_SEGMENTS or stem.startswith("search") or stem.endswith("search"):
                return True
    for query in (parts.query, parts.fragment if "=" in parts.fragment else ""):
        for key, value in parse_qsl(query, keep_blank_values=True):
            key, value = key.lower().strip(), value.lower()
            if key in SEARCH_PARAMETERS or any(word in key for word in SEARCH_PARAMETER_WORDS):
                return True
            if "search" in value and key in {"cmd", "event", "action", "op", "db"}:
                return True
    return False


URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>)\]]+", re.IGNORECASE)
PMID = re.compile(r"^[0-9]{1,9}$")
DOI = re.compile(r"^10\.\d{4,9}/\S+$")
FIRST_STUDY_YEAR = 1950
# Statistics must report a number, or say plainly that none was reported.
NO_STATISTICS_SAID = re.compile(
    r"not (reported|given|stated)|none (was |were )?reported"
    r"|\bno\b[^.;]{0,40}?\b(statistic\w*|tests?|testing|p|p values?|effect sizes?|CI|confidence"
    r" intervals?|pooled)\b",
    re.IGNORECASE,
)
MIN_SENTENCE = 40  # characters of a clinical-significance sentence (placeholders such as "TBD" fail)


# Ratings that claim efficacy, and what an off-label use needs to carry one: more than one positive
# randomised controlled trial, or a positive meta-analysis (a pooled analysis is neither).
EFFICACY_CLAIMS = frozenset({"effective", "evidence-favours"})


@dataclass(frozen=True)
class Range:
    """A creatinine-clearance range in mL/min. ``upper`` None means no upper bound."""

    lower: float
    lower_inclusive: bool
    upper: float | None
    upper_inclusive: bool
    label: str = ""

    def describe(self) -> str:
        left = "[" if self.lower_inclusive else "("
        right = "]" if self.upper_inclusive else ")"
        upper = "∞" if self.upper is None else f"{self.upper:g}"
        return f"{left}{self.lower:g}, {upper}{right}"


def renal_range_problems(ranges: list[Range]) -> list[str]:
    """Messages for gaps, overlaps and malformed ranges; empty when the ranges cover 0 to infinity
    exactly once."""
    if not ranges:
        return ["No creatinine-clearance ranges: add ranges that cover 0 mL/min to no upper limit."]
    problems: list[str] = []
    for r in ranges:
        if r.lower < 0:
            problems.append(f"{r.label or r.describe()}: the lower limit cannot be negative.")
        if r.upper is not None and r.upper <= r.lower:
            problems.append(
                f"{r.label or r.describe()}: the upper limit ({r.upper:g}) must be above the lower"
                f" limit ({r.lower:g})."
            )
        if r.upper is None and r.upper_inclusive:
            problems.append(f"{r.label or r.describe()}: a range with no upper limit cannot include it.")
    if problems:
        return problems

    ordered = sorted(ranges, key=lambda r: (r.lower, not r.lower_inclusive))
    first = ordered[0]
    if first.lower > 0 or not first.lower_inclusive:
        problems.append(
            f"Gap: nothing covers CrCl from 0 mL/min up to {first.lower:g} mL/min"
            f" ({first.describe()} starts there)."
        )
    for before, after in itertools.pairwise(ordered):
        if before.upper is None:
            problems.append(
                f"Overlap: {before.describe()} has no upper limit but {after.describe()} starts above it."
            )
            continue
        if after.lower > before.upper:
            problems.append(
                f"Gap: nothing covers CrCl between {before.upper:g} and {after.lower:g} mL/min"
                f" (between {before.describe()} and {after.describe()})."
            )
        elif after.lower < before.upper:
            problems.append(f"Overlap: {before.describe()} and {after.describe()} overlap.")
        elif before.upper_inclusive and after.lower_inclusive:
            problems.append(
                f"Overlap: CrCl {after.lower:g} mL/min falls in both {before.describe()}"
                f" and {after.describe()}; exclude it from one of them."
            )
        elif not before.upper_inclusive and not after.lower_inclusive:
            problems.append(
                f"Gap: CrCl {after.lower:g} mL/min falls in neither {before.describe()}"
                f" nor {after.describe()}; include it in one of them."
            )
    if ordered[-1].upper is not None:
        last = ordered[-1]
        problems.append(
            f"Gap: nothing covers CrCl above {last.upper:g} mL/min; leave the last upper limit empty."
        )
    return problems


REQUIRED_REGIMENS = (("us", "ir"), ("us", "xr"), ("eu", "ir"))
# Flag codes of the contract raised by a rule row rather than by a mechanism: some published rule
# must raise each of them.
REQUIRED_RULE_CODES = ("memantine-already-taken",)
# Mechanism flags whose effect on the verdict is fixed by what they mean.
FIXED_VERDICTS = {
    "renal-function-unknown": "unconfirmed",  # the dose cannot be confirmed without renal function
    "studied-dose-above-cap": "standard",  # it is computed from the dose, so it cannot change it
}


def is_http_url(url: str) -> bool:
    return (
        isinstance(url, str) and (url.startswith("https://") or url.startswith("http://")) and len(url) > 10
    )


def snapshot_problems(snapshot: dict) -> list[str]:
    """Everything that must hold before a snapshot may be published, as messages for an editor."""
    problems: list[str] = []
    sources = {s["key"]: s for s in snapshot["sources"]}
    for source in snapshot["sources"]:
        if not is_http_url(source["url"]):
            problems.append(
                f"Source “{source['label']}” needs a web address starting with http:// or https://."
            )

    def needs_sources(keys: list[str], what: str) -> None:
        usable = [k for k in keys if k in sources and is_http_url(sources[k]["url"])]
        if not usable:
            problems.append(f"{what} has no source with a web address.")

    class_codes = {c["code"] for c in snapshot["drug_classes"]}
    classes_with_drugs = {code for d in snapshot["drugs"] for code in d["classes"]}

    def needs_class(code: str | None, what: str) -> None:
        if code is None:
            return
        if code not in class_codes:
            problems.append(f"{what} names the drug class “{code}”, which does not exist.")
        elif code not in classes_with_drugs:
            problems.append(
                f"{what} names the drug class “{code}”, which has no published drug: it can never fire."
            )

    if not snapshot["indications"]:
        problems.append("No published indication.")
    for ind in snapshot["indications"]:
        what = f"Indication “{ind['name']}”"
        needs_sources(ind["sources"], what)
        for axis in ("strength", "efficacy", "recommendation"):
            if not ind["evidence"].get(axis):
                problems.append(f"{what} has no {axis} rating.")
        if not ind["evidence_summary"].strip():
            problems.append(f"{what} has no evidence summary.")
        needs_class(ind["augments_class"], what)
        for study in ind["studies"]:
            if not is_http_url(study["url"]):
                problems.append(f"{what}: study {study['first_author']} {study['year'] or ''} has no link.")

    present = {(r["region"], r["formulation"]) for r in snapshot["regimens"]}
    for region, formulation in REQUIRED_REGIMENS:
        if (region, formulation) not in present:
            problems.append(f"No dose regimen for {region.upper()} {formulation.upper()}.")
    for reg in snapshot["regimens"]:
        label = f"{reg['region'].upper()} {reg['formulation'].upper()}"
        needs_sources(reg["sources"], f"Regimen {label}")
        if reg["formulation"] != "ir" and not reg.get("ir_equivalent_max_mg_per_day"):
            problems.append(f"Regimen {label}: give the immediate-release equivalent of its maximum.")
        rules = [
            r
            for r in snapshot["renal_rules"]
            if (r["region"], r["formulation"]) == (reg["region"], reg["formulation"])
        ]
        ranges = [
            Range(
                r["crcl_min_ml_min"],
                r["lower_inclusive"],
                r["crcl_max_ml_min"],
                r["upper_inclusive"],
                r["band"],
            )
            for r in rules
        ]
        problems += [f"Renal rules {label}: {p}" for p in renal_range_problems(ranges)]
        for rule in rules:
            rule_what = f"Renal rule {label} {rule['band']}"
            needs_sources(rule["sources"] + (rule["flag"]["sources"] if rule["flag"] else []), rule_what)
            if rule["max_mg_per_day"] is not None and rule["max_mg_per_day"] > reg["max_mg_per_day"]:
                problems.append(f"{rule_what}: its maximum exceeds the regimen's maximum.")
            if rule["start_mg_per_day"] is not None and rule["start_mg_per_day"] > reg["start_mg_per_day"]:
                problems.append(
                    f"{rule_what}: its start ({rule['start_mg_per_day']} mg/day) is above the regimen's start"
                    f" ({reg['start_mg_per_day']} mg/day)."
                )
            if rule["dose_effect"] != "standard" and not rule["flag"]:
                problems.append(f"{rule_what}: a rule that changes the dose must raise a flag.")
            if rule["flag"] and rule["flag"]["severity"] == "critical" and rule["dose_effect"] == "standard":
                problems.append(f"{rule_what}: a critical flag cannot leave the standard dose in place.")
        if not any(r["band"] == "no-data" for r in rules):
            problems.append(f"Renal rules {label}: no rule for the no-data band (used for dialysis).")

    for region in ("us", "eu"):
        for cls in ("A", "B", "C"):
            if not any(
                r["region"] == region and r["child_pugh_class"] == cls for r in snapshot["hepatic_rules"]
            ):
                problems.append(f"No hepatic rule for {region.upper()} Child-Pugh {cls}.")
    for rule in snapshot["hepatic_rules"]:
        needs_sources(
            rule["sources"] + (rule["flag"]["sources"] if rule["flag"] else []),
            f"Hepatic rule {rule['region'].upper()} Child-Pugh {rule['child_pugh_class']}",
        )
    for rule in snapshot["condition_rules"]:
        needs_sources(rule["flag"]["sources"], f"Condition rule {rule['condition']} ({rule['region']})")
    for rule in snapshot["interaction_rules"]:
        what = f"Interaction rule {rule['drug_class']} ({rule['region']})"
        needs_sources(rule["flag"]["sources"], what)
        needs_class(rule["drug_class"], what)
        needs_class(rule["also_requires_class"], what)
    for rule in snapshot["standard_flags"]:
        needs_sources(rule["flag"]["sources"], f"Standard flag {rule['flag']['code']} ({rule['region']})")

    for group in ("hepatic_rules", "condition_rules", "interaction_rules", "standard_flags"):
        for rule in snapshot[group]:
            flag = rule["flag"]
            if not flag:
                continue
            what = f"{group.replace('_', ' ')[:-1].capitalize()} {flag['code']} ({rule['region']})"
            verdict = flag.get("verdict", "standard")
            if verdict not in RULE_VERDICTS:
                problems.append(f"{what}: unknown effect on the verdict “{verdict}”.")
                continue
            if flag["severity"] == "critical" and VERDICT_RANK[verdict] < VERDICT_RANK["caution"]:
                problems.append(
                    f"{what}: a critical flag must at least make the verdict “use with caution”,"
                    " or the dose box would reassure beside it."
                )
            if verdict == "not-recommended" and flag["severity"] != "critical":
                problems.append(f"{what}: “not recommended” needs a critical flag.")
            fixed = FIXED_VERDICTS.get(flag["code"]) if group == "standard_flags" else None
            if fixed and verdict != fixed:
                problems.append(f"{what}: its effect on the verdict must be “{fixed}”.")

    raised_by_rules = {r["flag"]["code"] for r in snapshot["interaction_rules"] if r["flag"]}
    for code in REQUIRED_RULE_CODES:
        if code not in raised_by_rules:
            problems.append(f"No published rule raises the {code} flag.")

    problems += drug_problems(snapshot)
    problems += code_problems(snapshot)
    problems += patient_note_problems(snapshot)
    problems += dose_limit_problems(snapshot)

    flags = {(r["flag"]["code"], r["region"]) for r in snapshot["standard_flags"]}
    required = list(REQUIRED_STANDARD_FLAGS)
    if any(ind["augments_class"] for ind in snapshot["indications"]):
        required.append("augmentation-without-ssri")
    for code in required:
        for region in ("us", "eu"):
            if (code, region) not in flags and (code, "any") not in flags:
                problems.append(f"No text for the {code} flag in region {region.upper()}.")

    for group in FLAG_GROUPS:
        for rule in snapshot[group]:
            if rule["flag"] and rule["flag"]["severity"] not in SEVERITIES:
                problems.append(
                    f"A {group.replace('_', ' ')[:-1]} has an unknown severity “{rule['flag']['severity']}”."
                )
    problems += evidence_problems(snapshot)
    for ind in snapshot["indications"]:
        low, high = ind.get("dose_studied_min_mg_per_day"), ind.get("dose_studied_max_mg_per_day")
        if (low is None) != (high is None) or (low is not None and low > high):
            problems.append(
                f"Indication “{ind['name']}”: the doses studied need a lowest and a highest, in order."
            )
    return problems


MAX_CHECKED_DOSE = 1000  # mg: no memantine dose comes near; larger ones are refused outright


def made_of_strengths(dose: int, strengths: list[int]) -> bool:
    """Whether a daily dose can be given as a sum of the available strengths (5 and 10 mg tablets
    make any multiple of 5; 7, 14, 21 and 28 mg capsules make multiples of 7)."""
    if dose < 1 or dose > MAX_CHECKED_DOSE or not strengths:
        return False  # beyond any memantine dose: refused without building a table that size
    reachable = [True] + [False] * dose
    for total in range(1, dose + 1):
        reachable[total] = any(s <= total and reachable[total - s] for s in strengths)
    return reachable[dose]


# A dose written in a text: "10 mg", "2 x 10 mg", "20 mg/day", "5 mg twice daily", "10 mg BID",
# "10 mg every 12 hours" (never "2 mg/mL" or "mg/kg"). The frequency words give the doses a day.
_PER_DAY = {
    1: r"/\s*(?:day|d|24\s*h(?:ours?)?)\b|per\s+day|a\s+day|daily|once(?:[\s-]+a)?[\s-]+day|once[\s-]+daily"
    r"|q\.?\s*d\.?|o\.?\s*d\.?|every\s+24\s+hours?|q24h|nocte|mane|at\s+night|in\s+the\s+morning"
    r"|in\s+the\s+evening",
    2: r"twice(?:[\s-]+a)?[\s-]+day|twice[\s-]+daily|two\s+times(?:\s+a)?[\s-]+day|two\s+times\s+daily"
    r"|b\.?\s*i\.?\s*d\.?|b\.?\s*d\.?|every\s+12\s+hours?|q12h",
    3: r"three\s+times(?:\s+a)?[\s-]+day|three\s+times\s+daily|t\.?\s*i\.?\s*d\.?|t\.?\s*d\.?\s*s\.?"
    r"|every\s+8\s+hours?|q8h",
    4: r"four\s+times(?:\s+a)?[\s-]+day|four\s+times\s+daily|q\.?\s*i\.?\s*d\.?|every\s+6\s+hours?|q6h",
}
DOSE_IN_TEXT = re.compile(
    r"(?:(?P<count>\d+)\s*[x×]\s*)?(?<![\d.])(?P<amount>\d+(?:\.\d+)?)\s*(?:mgs?|milligrams?)\b"
    r"(?!\s*/\s*(?:ml|kg|m2)\b)"
    r"(?:[\s,;-]*(?:" + "|".join(f"(?P<f{n}>{p})" for n, p in _PER_DAY.items()) + r"))?",
    re.IGNORECASE,
)
NUMBER_WORDS = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen|twenty|"
    r"twenty[\s-]+\w+|thirty|forty|fifty|sixty)[\s-]+(?:mgs?|milligrams?)\b",
    re.IGNORECASE,
)


# What may stand around the dose in an instruction read as a whole ("Take 10 mg twice daily by mouth.").
# Instruction words around a dose ("Take 5 mg twice daily by mouth."), read after the whitespace is
# collapsed to single spaces: each pattern is anchored and has no two quantifiers side by side, so
# its time is linear in the text (an earlier form backtracked for minutes on a run of spaces).
_LEADING_WORDS = re.compile(r"^(?:take )?", re.IGNORECASE)
_TRAILING_WORDS = re.compile(r" ?(?:by mouth|orally|p\.?o\.?)?\.?$", re.IGNORECASE)
MAX_REGIMEN_CHARS = 200  # a regimen or step longer than this is not read (and so refused)
MAX_STEPS = 12  # titration steps in one regimen


def _instruction(text: str) -> str:
    text = " ".join((text or "").split())
    return _TRAILING_WORDS.sub("", _LEADING_WORDS.sub("", text), count=1)


def regimen_doses(text: str, *, whole: bool = False) -> tuple[float, int] | None:
    """The single dose and the doses a day of a regimen written as one dose with its frequency ("5 mg
    twice daily" -> (5, 2)); None for anything else (no frequency, several doses, a titration). With
    ``whole``, the text must be that and nothing more ("10 mg in the morning and at night" is not)."""
    if len(text or "") > MAX_REGIMEN_CHARS:
        return None
    if whole:
        found = [DOSE_IN_TEXT.fullmatch(_instruction(text))]
        found = [m for m in found if m is not None]
    else:
        found = [m for m in DOSE_IN_TEXT.finditer(text or "")]
    if len(found) != 1 or found[0].group("count"):
        return None
    times = next((n for n in _PER_DAY if found[0].group(f"f{n}")), None)
    return None if times is None else (float(found[0].group("amount")), times)


# What joins the doses of one titration step ("5 mg in the morning and 10 mg in the evening").
_STEP_JOINER = re.compile(r"\s*(?:,|;|\band\b|\bplus\b)\s*", re.IGNORECASE)


def step_doses(text: str) -> tuple[tuple[float, int], ...] | None:
    """The doses of one titration step, each with its doses a day, read by ``regimen_doses`` part by
    part: "5 mg twice daily" -> ((5, 2),); "5 mg in the morning and 10 mg in the evening" -> ((5, 1),
    (10, 1)). None when any part is not one dose with how often it is taken (the step is then refused,
    never guessed)."""
    parts = [p for p in _STEP_JOINER.split(text or "") if p.strip()]
    if not parts:
        return None
    doses = tuple(regimen_doses(part, whole=True) for part in parts)
    return None if any(d is None for d in doses) else doses


def step_mg_per_day(text: str) -> float | None:
    """The daily dose of one titration step (see ``step_doses``), or None when it cannot be read."""
    doses = step_doses(text)
    return None if doses is None else sum(amount * times for amount, times in doses)


def titration_step_problems(
    steps: list[str], *, start_mg_per_day: int, max_mg_per_day: int, strengths: list[int]
) -> list[str]:
    """A regimen's titration steps (the patient's calendar) against the regimen: each step a dose
    with how often, each single dose made of the available strengths, rising step by step from the
    regimen's start to exactly its maximum."""
    problems: list[str] = []
    daily: list[float] = []
    if len(steps) > MAX_STEPS:
        return [f"{len(steps)} titration steps: at most {MAX_STEPS}."]
    for number, step in enumerate(steps, start=1):
        doses = step_doses(step)
        if doses is None:
            problems.append(
                f"Step {number} “{step}” is not read as doses with how often each is taken"
                " (write e.g. “5 mg twice a day” or “5 mg in the morning and 10 mg in the evening”)."
            )
            continue
        for amount, _ in doses:
            if amount != int(amount) or not made_of_strengths(int(amount), strengths):
                shown = ", ".join(str(s) for s in strengths) or "none"
                problems.append(
                    f"Step {number} “{step}”: {amount:g} mg cannot be made of the available strengths"
                    f" ({shown} mg)."
                )
        daily.append(sum(a * t for a, t in doses))
    if problems or not daily:
        return problems
    for number, (before, after) in enumerate(itertools.pairwise(daily), start=2):
        if after <= before:
            problems.append(
                f"Step {number} ({after:g} mg/day) does not rise above step {number - 1} ({before:g} mg/day)."
            )
    if daily[0] != start_mg_per_day:
        problems.append(
            f"The first step ({daily[0]:g} mg/day) is not the starting dose ({start_mg_per_day} mg/day)."
        )
    if daily[-1] != max_mg_per_day:
        problems.append(f"The last step ({daily[-1]:g} mg/day) is not the maximum ({max_mg_per_day} mg/day).")
    return problems


def text_dose_problems(text: str, what: str, maximum: int, labelled_maximum: int) -> list[str]:
    """Doses written in a text against the numbers they must obey: a daily amount above the maximum,
    a single dose above the labelled daily maximum, a dose in words (written in digits, it can be
    checked)."""
    problems = []
    for match in DOSE_IN_TEXT.finditer(text or ""):
        amount = float(match.group("amount")) * int(match.group("count") or 1)
        times = next((n for n in _PER_DAY if match.group(f"f{n}")), None)
        if times is not None:
            daily = amount * times
            if daily > maximum:
                problems.append(
                    f"{what} says “{match.group(0).strip()}” ({daily:g} mg/day), above its maximum"
                    f" ({maximum} mg/day)."
                )
        elif amount > labelled_maximum:
            problems.append(
                f"{what} says “{match.group(0).strip()}”, above the labelled maximum"
                f" ({labelled_maximum} mg/day)."
            )
    for match in NUMBER_WORDS.finditer(text or ""):
        problems.append(f"{what} says “{match.group(0)}”: write doses in digits so that they can be checked.")
    return problems


def dose_limit_problems(snapshot: dict) -> list[str]:
    """Every dose a regimen or renal rule can give against what the labelling allows for its
    formulation (the catalogue's labelled limits): at most the labelled maximum, a start no higher
    than the maximum, and made of the strengths that exist."""
    problems: list[str] = []
    limits = {lim["formulation"]: lim for lim in snapshot.get("labelled_limits", [])}
    for limit in limits.values():
        if not limit["sources"]:
            problems.append(f"The labelled limits for {limit['formulation'].upper()} have no source.")

    def check(dose: int | None, what: str, limit: dict) -> None:
        if dose is None:
            return
        if dose > limit["max_mg_per_day"]:
            problems.append(
                f"{what} ({dose} mg/day) is above the labelled maximum for"
                f" {limit['formulation'].upper()} ({limit['max_mg_per_day']} mg/day)."
            )
        if not made_of_strengths(dose, limit["strengths_mg"]):
            strengths = ", ".join(str(s) for s in limit["strengths_mg"])
            problems.append(
                f"{what} ({dose} mg/day) cannot be made of the available {limit['formulation'].upper()}"
                f" strengths ({strengths} mg)."
            )

    ir_limit = limits.get("ir")
    for reg in snapshot["regimens"]:
        label = f"{reg['region'].upper()} {reg['formulation'].upper()}"
        limit = limits.get(reg["formulation"])
        if limit is None:
            problems.append(
                f"Regimen {label}: no labelled limits for its formulation, so its doses cannot be checked."
            )
            continue
        check(reg["start_mg_per_day"], f"Regimen {label}: the start", limit)
        check(reg["max_mg_per_day"], f"Regimen {label}: the maximum", limit)
        if reg["start_mg_per_day"] > reg["max_mg_per_day"]:
            problems.append(f"Regimen {label}: the start is above the maximum.")
        ir_equivalent = reg.get("ir_equivalent_max_mg_per_day")
        if ir_equivalent and ir_limit and ir_equivalent > ir_limit["max_mg_per_day"]:
            problems.append(
                f"Regimen {label}: its immediate-release equivalent ({ir_equivalent} mg/day) is above the"
                f" labelled immediate-release maximum ({ir_limit['max_mg_per_day']} mg/day)."
            )
        for name in ("regimen", "titration"):
            problems += text_dose_problems(
                reg[name], f"Regimen {label}: the {name}", reg["max_mg_per_day"], limit["max_mg_per_day"]
            )
        steps = reg.get("titration_steps") or []
        if steps:
            problems += [
                f"Regimen {label}: the titration steps: {p}"
                for p in titration_step_problems(
                    steps,
                    start_mg_per_day=reg["start_mg_per_day"],
                    max_mg_per_day=reg["max_mg_per_day"],
                    strengths=limit["strengths_mg"],
                )
            ]
            shortest = limit.get("min_step_days", 7)
            if not reg.get("step_days") or reg["step_days"] < shortest:
                problems.append(
                    f"Regimen {label}: each titration step must last at least {shortest} days (the labelled"
                    f" interval between dose increases); it says {reg.get('step_days') or 'nothing'}."
                )
        for rule in snapshot["renal_rules"]:
            if (rule["region"], rule["formulation"]) != (reg["region"], reg["formulation"]):
                continue
            what = f"Renal rule {label} {rule['band']}"
            maximum = rule["max_mg_per_day"] if rule["max_mg_per_day"] is not None else reg["max_mg_per_day"]
            # The dose box shows the rule's own text, or the regimen's where the rule has none.
            for name in ("regimen", "titration", "summary"):
                text = rule[name] or (
                    reg[name] if name != "summary" and rule["dose_effect"] != "none" else ""
                )
                problems += text_dose_problems(text, f"{what}: the {name}", maximum, limit["max_mg_per_day"])
            check(rule["start_mg_per_day"], f"{what}: the start", limit)
            check(rule["max_mg_per_day"], f"{what}: the maximum", limit)
            start = rule["start_mg_per_day"] or reg["start_mg_per_day"]
            if rule["max_mg_per_day"] is not None and start > rule["max_mg_per_day"]:
                problems.append(
                    f"{what}: the start ({start} mg/day) is above its maximum"
                    f" ({rule['max_mg_per_day']} mg/day)."
                )
    # Texts beside the dose box and in the flags: no daily dose above the highest labelled maximum.
    highest = max((lim["max_mg_per_day"] for lim in limits.values()), default=0)
    if highest:
        texts = [
            (
                f"Hepatic rule {r['region'].upper()} Child-Pugh {r['child_pugh_class']}: the summary",
                r["summary"],
            )
            for r in snapshot["hepatic_rules"]
        ]
        texts += [(f"Safety note {n['key']}", n["text"]) for n in snapshot.get("safety_notes", [])]
        texts += [(f"Patient note {n['key']}", n["text"]) for n in snapshot.get("patient_notes", [])]
        for group in FLAG_GROUPS:
            for rule in snapshot[group]:
                if rule["flag"]:
                    flag = rule["flag"]
                    texts += [
                        (f"Flag {flag['code']}: the {part}", flag[part]) for part in ("title", "detail")
                    ]
        for what, text in texts:
            problems += text_dose_problems(text, what, highest, highest)
    return problems


def _study_name(study: dict) -> str:
    return f"{study['first_author']} {study['year']}" if study.get("year") else study["first_author"]


def reports_a_number(statistics: str) -> bool:
    """An effect, a CI or a p: "no statistical test" alone is honest but is not a statistic."""
    return bool(re.search(r"\d", statistics or ""))


def significance_ok(text: str) -> bool:
    text = (text or "").strip()
    return len(text) >= MIN_SENTENCE and text.endswith(".")


def study_url(study: dict) -> str:
    """The link a published study must have: its PubMed page, else its doi.org page."""
    if study.get("pmid"):
        return f"https://pubmed.ncbi.nlm.nih.gov/{study['pmid']}/"
    if study.get("doi"):
        return f"https://doi.org/{study['doi']}"
    return ""


def _identity(study: dict) -> str:
    return f"pmid:{study['pmid']}" if study.get("pmid") else f"doi:{(study.get('doi') or '').lower()}"


def missing_elements(ind: dict) -> set[str]:
    """Which of the elements an editor may declare as a gap an indication of a snapshot lacks."""
    studies = [s for s in ind["studies"] if s.get("pmid") or s.get("doi")]
    missing = set()
    if not studies:
        missing.add("study")
    if ind.get("dose_studied_min_mg_per_day") is None or ind.get("dose_studied_max_mg_per_day") is None:
        missing.add("dose")
    if not any(reports_a_number(s.get("statistics")) for s in studies):
        missing.add("statistics")
    return missing


def _gap_problems(ind: dict, what: str) -> list[str]:
    """An element is either there or declared as not verified, with the reason: never silently absent,
    and never declared missing when it is there."""
    problems = []
    declared = {g["element"]: g["reason"] for g in ind.get("evidence_gaps", ())}
    missing = missing_elements(ind)
    for element in sorted(missing - set(declared)):
        problems.append(
            f"{what}: no {GAP_ELEMENTS[element]}. Add it from a source, or declare the gap with"
            " what was reviewed so clinicians are told."
        )
    for element, reason in declared.items():
        if element not in GAP_ELEMENTS:
            problems.append(f"{what}: “{element}” cannot be declared as a gap.")
        elif element not in missing:
            problems.append(f"{what} declares “{GAP_ELEMENTS[element]}” missing but has it: remove the gap.")
        elif len(reason.strip()) < MIN_SENTENCE:
            problems.append(
                f"{what}: the gap “{GAP_ELEMENTS[element]}” needs its reason (what was reviewed)."
            )
    return problems


def _study_problems(ind: dict, what: str) -> list[str]:
    problems = []
    seen: dict[str, str] = {}
    for study in ind["studies"]:
        name = f"{what}: study {_study_name(study)}"
        pmid, doi = (study.get("pmid") or "").strip(), (study.get("doi") or "").strip()
        if not (pmid or doi):
            problems.append(f"{name} has no PMID or DOI: publish it only once it can be opened by one.")
        if pmid and not PMID.match(pmid):
            problems.append(f"{name}: the PMID “{pmid}” is not a PubMed number.")
        if doi and not DOI.match(doi):
            problems.append(f"{name}: the DOI “{doi}” is not a DOI (10.prefix/suffix).")
        if (pmid or doi) and study.get("url") != study_url(study):
            problems.append(f"{name} must link to its PubMed or doi.org page, not {study.get('url')!r}.")
        if study.get("url") and is_search_url(study["url"]):
            problems.append(f"{name} links to a search ({study['url']}).")
        year = study.get("year")
        if not year:
            problems.append(f"{name} needs its year.")
        elif not FIRST_STUDY_YEAR <= year <= 2100:
            problems.append(f"{name}: the year {year} is not plausible.")
        if study.get("participants") is not None and study["participants"] < 1:
            problems.append(f"{name}: the number of participants must be at least 1 (or left empty).")
        statistics = (study.get("statistics") or "").strip()
        if not statistics:
            problems.append(
                f"{name} needs its statistics as reported (effect, CI, p) or a statement that none"
                " were reported."
            )
        elif not (reports_a_number(statistics) or NO_STATISTICS_SAID.search(statistics)):
            problems.append(
                f"{name}: “{statistics[:40]}” is neither a reported statistic nor a statement that none"
                " was reported."
            )
        if study["design"] not in STUDY_DESIGNS:
            problems.append(f"{name} has an unknown design “{study['design']}”.")
        if study["result"] not in STUDY_RESULTS:
            problems.append(f"{name} has an unknown result “{study['result']}”.")
        if pmid or doi:
            other = seen.get(_identity(study))
            if other:
                problems.append(f"{name} is the same publication as {other}: enter each study once.")
            seen[_identity(study)] = _study_name(study)
    return problems


def _distinct_positive(ind: dict, designs: set[str]) -> int:
    """Distinct publications (by PMID or DOI) of these designs with a positive result."""
    return len(
        {
            _identity(s) if (s.get("pmid") or s.get("doi")) else s["key"]
            for s in ind["studies"]
            if s["result"] == "positive" and s["design"] in designs
        }
    )


def _rating_problems(ind: dict, what: str, labelling_sources: set[str]) -> list[str]:
    """Ratings the published studies (and, for the approved use, the labels) carry."""
    problems = []
    evidence = ind["evidence"]
    approved = ind["status"] == "approved"
    trials = _distinct_positive(ind, {"randomised-controlled"})
    syntheses = _distinct_positive(ind, {"meta-analysis"})
    negative = [s for s in ind["studies"] if s["result"] == "negative" and s["design"] in CONTROLLED_DESIGNS]
    if approved:
        if evidence.get("recommendation") != "recommended":
            problems.append(f"{what}: an approved (labelled) use is rated “recommended (labelled use)”.")
        if not set(ind["sources"]) & labelling_sources:
            problems.append(f"{what}: an approved use needs the label that approves it among its sources.")
    else:
        if evidence.get("recommendation") == "recommended":
            problems.append(f"{what}: “recommended (labelled use)” is only for a labelled use.")
        if evidence.get("efficacy") == "effective":
            problems.append(
                f"{what}: “effective” is only for a labelled use; an off-label use can at most be rated"
                " “evidence favours efficacy”."
            )
        if evidence.get("efficacy") in EFFICACY_CLAIMS and trials < 2 and not syntheses:
            problems.append(
                f"{what}: the rating “{evidence['efficacy']}” needs more than one positive randomised"
                f" controlled trial or a positive meta-analysis among its published studies (it has"
                f" {trials} positive trial{'s' if trials != 1 else ''} and no positive meta-analysis;"
                " the same publication entered twice counts once)."
            )
    if evidence.get("strength") == "A":
        if not (trials >= 2 or syntheses or _distinct_positive(ind, {"systematic-review"})):
            problems.append(f"{what}: strength A needs consistent positive randomised evidence.")
        if negative:
            problems.append(
                f"{what}: strength A (consistent randomised evidence) with a negative controlled study"
                f" ({_study_name(negative[0])}) is not consistent: rate it B."
            )
    return problems


def _texts(ind: dict):
    yield ind["evidence_summary"]
    yield ind.get("clinical_significance") or ""
    for group, fields in (
        ("caveats", ("text",)),
        ("guidelines", ("title", "statement")),
        ("evidence_gaps", ("reason",)),
        ("studies", ("finding", "statistics", "citation", "dose")),
    ):
        for item in ind.get(group, ()):
            for f in fields:
                yield item.get(f) or ""


def evidence_problems(snapshot: dict) -> list[str]:
    """What a clinician weighing a use must be able to open and check: studies linked by PMID or DOI
    with their statistics, sourced caveats and guideline positions, a sentence on clinical
    significance, elements present or declared as gaps, ratings the published studies carry, and no
    link to a search. Every check applies whatever the indication's status."""
    problems: list[str] = []
    openable = {s["key"] for s in snapshot["sources"] if is_http_url(s["url"])}
    labelling = {s["key"] for s in snapshot["sources"] if s.get("kind") in ("us-label", "eu-smpc")}
    for source in snapshot["sources"]:
        if is_search_url(source["url"]):
            problems.append(
                f"Source “{source['label']}” links to a search ({source['url']}): link the document itself."
            )
    for ind in snapshot["indications"]:
        what = f"Indication “{ind['name']}”"
        problems += _study_problems(ind, what)
        for caveat in ind.get("caveats", ()):
            if not any(k in openable for k in caveat.get("sources", ())):
                problems.append(f"{what}: the caveat “{caveat['text'][:60]}…” has no source.")
        for guideline in ind.get("guidelines", ()):
            label = f"{what}: guideline entry {guideline['body']} {guideline['title'][:40]}"
            if guideline["position"] not in GUIDELINE_POSITIONS:
                problems.append(f"{label} has an unknown position “{guideline['position']}”.")
            if len(guideline["statement"].strip()) < 20 or len(guideline["body"].strip()) < 2:
                problems.append(
                    f"{label} needs who issued it and a statement (for none-found: what was reviewed)."
                )
            if not any(k in openable for k in guideline["sources"]):
                problems.append(f"{label} has no source.")
        if not ind.get("guidelines"):
            problems.append(
                f"{what} needs a guideline entry: a position with its source, or “none found” naming"
                " what was reviewed."
            )
        if not significance_ok(ind.get("clinical_significance")):
            problems.append(
                f"{what} needs a sentence on clinical significance (what the effect means for a patient,"
                " or that it is unknown)."
            )
        problems += _gap_problems(ind, what)
        problems += _rating_problems(ind, what, labelling)
        for text in _texts(ind):
            for url in URL_IN_TEXT.findall(text):
                if is_search_url(url):
                    problems.append(f"{what}: its text links to a search ({url}).")
    for note in snapshot.get("safety_notes", ()):
        if not any(k in openable for k in note["sources"]):
            problems.append(f"Safety note “{note['text'][:60]}…” has no source.")
        for url in URL_IN_TEXT.findall(note["text"]):
            if is_search_url(url):
                problems.append(f"Safety note “{note['text'][:40]}…” links to a search ({url}).")
    return problems


def future_study_problems(snapshot: dict, year: int) -> list[str]:
    """Studies dated after this year (the engine has no clock: the caller passes it)."""
    return [
        f"Indication “{ind['name']}”: study {_study_name(s)} is dated {s['year']}, after {year}."
        for ind in snapshot["indications"]
        for s in ind["studies"]
        if s.get("year") and s["year"] > year
    ]


# An amount in a patient note, however written ("20 mg", "0.02 g", "two 10 mg tablets", "4O mg",
# "5 tablets", "half a tablet"): refused outright, since the sheet's doses come only from the calendar.
AMOUNT_IN_NOTE = re.compile(
    r"\b(?:mg|milligrams?|micrograms?|mcg|µg|μg|ml|millilit(?:re|er)s?|grams?|tablets?|capsules?|pills?"
    r"|tabs?|caps?)\b|\d\s*(?:g|mg)\b",
    re.IGNORECASE,
)


def patient_note_problems(snapshot: dict) -> list[str]:
    """The patient sheet's plain-language notes: each with a source that can be opened and no link
    to a search, a known topic, no amount of medicine (the sheet's doses are its calendar's), and a
    note on every topic the sheet must be able to say, for each region."""
    problems: list[str] = []
    openable = {s["key"] for s in snapshot["sources"] if is_http_url(s["url"])}
    notes = snapshot.get("patient_notes", ())
    for note in notes:
        what = f"Patient note “{note['key']}”"
        if note["topic"] not in PATIENT_TOPICS:
            problems.append(f"{what} has an unknown topic “{note['topic']}”.")
        if not any(k in openable for k in note["sources"]):
            problems.append(f"{what} has no source.")
        if not note["text"].strip():
            problems.append(f"{what} has no text.")
        for url in URL_IN_TEXT.findall(note["text"]):
            if is_search_url(url):
                problems.append(f"{what} links to a search ({url}).")
        amount = AMOUNT_IN_NOTE.search(note["text"])
        if amount:
            problems.append(
                f"{what} states an amount (“{amount.group(0)}”): the patient sheet's only doses are its"
                " calendar's, made from the regimen's titration steps."
            )
    for topic in REQUIRED_PATIENT_TOPICS:
        for region in ("us", "eu"):
            if not any(n["topic"] == topic and n["region"] in (region, "any") for n in notes):
                problems.append(
                    f"No patient note on “{PATIENT_TOPICS[topic]}” for region {region.upper()}:"
                    " the patient sheet must be able to say it."
                )
    return problems


def drug_problems(snapshot: dict) -> list[str]:
    """Names that would match two drugs, brands without a source, products whose parts are missing."""
    problems: list[str] = []
    published = {d["name"] for d in snapshot["drugs"]}
    owner: dict[str, str] = {}
    for drug in snapshot["drugs"]:
        for name in (drug["name"], *drug["other_names"]):
            key = normalise_name(name)
            if not key:
                problems.append(f"Drug “{drug['name']}”: the name “{name}” has no letters left to match on.")
                continue
            other = owner.setdefault(key, drug["name"])
            if other != drug["name"]:
                problems.append(
                    f"The name “{name}” of {drug['name']} matches {other} too (both read as “{key}”)."
                )
        for name, kind in drug.get("name_kinds", {}).items():
            if kind == "brand" and name not in drug.get("name_sources", {}):
                problems.append(f"Brand name “{name}” of {drug['name']} has no source.")
        for part in drug.get("components", []):
            if part not in published:
                problems.append(
                    f"Combination product {drug['name']} contains {part}, which is not published."
                )
        if drug.get("components") and drug["classes"]:
            problems.append(
                f"Combination product {drug['name']} has classes of its own;"
                " give the classes to its components."
            )
    return problems


def code_problems(snapshot: dict) -> list[str]:
    """EHR codes (CDS Hooks) that cannot be read as meant: without a source, naming nothing, or a code
    given two meanings by overlapping ICD-10 ranges is not possible (codes are unique)."""
    problems: list[str] = []
    drugs = {d["name"] for d in snapshot["drugs"]}
    conditions = {c["slug"] for c in snapshot.get("conditions", ())}
    for code in snapshot.get("codes", ()):
        what = f"EHR code {code['system']} {code['code']} ({code['display']})"
        if not code["source"]:
            problems.append(f"{what} has no source: say where the code and its meaning were checked.")
        if code["means"] == "drug" and code["drug"] not in drugs:
            problems.append(f"{what} names no published drug.")
        if code["means"] == "condition" and code["condition"] not in conditions:
            problems.append(f"{what} names no condition.")
        if code["includes_subcodes"] and code["system"] not in ("icd-10-cm", "icd-10"):
            problems.append(f"{what} includes codes below it, which only ICD-10 codes have.")
    return problems


SNAPSHOT_KEYS = {
    "indications": ("Indication", lambda x: x["slug"]),
    "labelled_limits": ("Labelled limit", lambda x: x["formulation"]),
    "regimens": ("Regimen", lambda x: f"{x['region']} {x['formulation']}"),
    "renal_rules": ("Renal rule", lambda x: f"{x['region']} {x['formulation']} {x['band']}"),
    "hepatic_rules": ("Hepatic rule", lambda x: f"{x['region']} Child-Pugh {x['child_pugh_class']}"),
    "condition_rules": ("Condition rule", lambda x: f"{x['condition']} ({x['region']})"),
    "interaction_rules": (
        "Interaction rule",
        lambda x: " + ".join(filter(None, (x["drug_class"], x["also_requires_class"]))) + f" ({x['region']})",
    ),
    "standard_flags": ("Flag text", lambda x: f"{x['flag']['code']} ({x['region']})"),
    "safety_notes": ("Safety note", lambda x: x["key"]),
    "patient_notes": ("Patient note", lambda x: x["key"]),
    "drug_classes": ("Drug class", lambda x: x["code"]),
    "conditions": ("Condition", lambda x: x["slug"]),
    "drugs": ("Drug", lambda x: x["name"]),
    "codes": ("EHR code", lambda x: f"{x['system']} {x['code']}"),
    "sources": ("Source", lambda x: x["key"]),
}


def snapshot_changes(old: dict | None, new: dict) -> list[str]:
    """What publishing ``new`` would change relative to ``old``, one line per item, for reviewers."""
    lines: list[str] = []
    for group, (label, key) in SNAPSHOT_KEYS.items():
        before = {key(x): x for x in (old or {}).get(group, [])}
        after = {key(x): x for x in new.get(group, [])}
        for k in sorted(after.keys() - before.keys()):
            lines.append(f"{label} added: {k}")
        for k in sorted(before.keys() - after.keys()):
            lines.append(f"{label} removed: {k}")
        for k in sorted(before.keys() & after.keys()):
            if before[k] != after[k]:
                fields = sorted(f for f in after[k] if before[k].get(f) != after[k].get(f))
                lines.append(f"{label} changed: {k} ({', '.join(fields)})")
    return lines


CLINICAL_GROUPS = frozenset(
    {
        "safety_notes",
        "patient_notes",
        "drugs",
        "codes",
        "indications",
        "labelled_limits",
        "regimens",
        "renal_rules",
        "hepatic_rules",
        "condition_rules",
        "interaction_rules",
        "standard_flags",
    }
)
FIELD_WORDS = {
    "start_mg_per_day": "start (mg/day)",
    "max_mg_per_day": "maximum (mg/day)",
    "ir_equivalent_max_mg_per_day": "immediate-release equivalent of the maximum (mg/day)",
    "strengths_mg": "available strengths (mg)",
    "crcl_min_ml_min": "CrCl from (mL/min)",
    "crcl_max_ml_min": "CrCl to (mL/min)",
    "strength": "strength of evidence",
    "dose_effect": "effect on the dose",
    "verdict": "effect on the dose verdict",
    "other_names": "brand names and synonyms",
    "classes": "drug classes",
}


def _flat(item: dict) -> dict:
    """A snapshot item with its evidence ratings and flag fields brought up to the top level."""
    out = dict(item)
    for nested in ("evidence", "flag"):
        if isinstance(out.get(nested), dict):
            out.update(out.pop(nested))
    return out


def _words(value) -> str:
    if value is None or value == "" or value == []:
        return "none"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _evidence_lines(slug: str, before: dict, after: dict) -> list[str]:
    """An indication's studies, guideline positions and caveats added, removed or changed."""
    lines: list[str] = []
    parts = (
        ("study", "studies", lambda x: x["key"], "result"),
        ("guideline", "guidelines", lambda x: f"{x['body']} {x['title']}", "position"),
        ("caveat", "caveats", lambda x: x["text"], None),
    )
    for what, group, key, field in parts:
        old = {key(x): x for x in before.get(group, [])}
        new = {key(x): x for x in after.get(group, [])}
        label = (lambda k: "a caveat") if what == "caveat" else (lambda k, what=what: f"{what} {k}")
        lines += [f"Indication {slug}: {label(k)} added." for k in sorted(new.keys() - old.keys())]
        lines += [f"Indication {slug}: {label(k)} removed." for k in sorted(old.keys() - new.keys())]
        if field:
            for k in sorted(old.keys() & new.keys()):
                if old[k][field] != new[k][field]:
                    lines.append(f"Indication {slug}: {what} {k} {field} {old[k][field]} → {new[k][field]}.")
    return lines


def clinical_change_lines(old: dict | None, new: dict) -> list[str]:
    """What changed for clinicians between two releases, one line each: doses, ratings, flag
    severities and effects on the verdict, and rules, limits or indications added or removed."""
    lines: list[str] = []
    for group, (label, key) in SNAPSHOT_KEYS.items():
        if group not in CLINICAL_GROUPS:
            continue
        before = {key(x): _flat(x) for x in (old or {}).get(group, [])}
        after = {key(x): _flat(x) for x in new.get(group, [])}
        lines += [f"{label} added: {k}." for k in sorted(after.keys() - before.keys())]
        lines += [f"{label} removed: {k}." for k in sorted(before.keys() - after.keys())]
        for k in sorted(before.keys() & after.keys()):
            if group == "indications":
                lines += _evidence_lines(k, before[k], after[k])
            for name in sorted(CLINICAL_FIELDS.keys() | {"other_names", "text"}):
                old_value, new_value = before[k].get(name), after[k].get(name)
                if name not in after[k] or old_value == new_value:
                    continue
                words = FIELD_WORDS.get(name, name.replace("_", " "))
                if max(len(_words(old_value)), len(_words(new_value))) > 60:
                    lines.append(f"{label} {k}: {words} reworded.")
                else:
                    lines.append(f"{label} {k}: {words} {_words(old_value)} → {_words(new_value)}.")
    return lines


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    a, b = before.split(), after.split()
    pieces: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("same", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(("del", " ".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(("ins", " ".join(b[j1:j2])))
    return pieces
