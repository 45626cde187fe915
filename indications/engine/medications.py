"""Recognising what clinicians type in a medication list.

A name is matched against every generic name, brand and synonym in the catalogue after normalising
both (case, punctuation, salt and release words: ``catalogue.normalise_name``); trailing strengths and
frequencies ("sertraline 50 mg daily") are ignored. A combination product counts as each of its
components, whether it is a catalogue product (Symbyax) or typed as one ("sertraline/quetiapine").
Whatever is not recognised is reported as not checked, with "did you mean" suggestions from the
catalogue's names; a suggestion is never substituted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .catalogue import SALT_AND_RELEASE_WORDS, Catalogue, Drug, normalise_name, words

# Words around a drug name that say how much, how often, by which route or in which form; ignored at
# either end of a name ("1. amantadine 100 mg PO BID", "esketamine nasal spray", "Delsym 12 hour").
_DOSE_TOKEN = re.compile(
    r"^(\d+|\d+(mg|mcg|µg|ug|g|ml|mls|iu|units?|h|hr|hrs|hour|hours|x)|x\d+|q\d+h|q\d+hr"
    r"|mg|mcg|µg|ug|g|ml|mls|iu|units?|hour|hours|hr|hrs"
    r"|tab|tabs|tablet|tablets|cap|caps|capsule|capsules|syrup|solution|soln|suspension|susp|liquid|elixir"
    r"|linctus|drops|spray|nasal|patch|patches|injection|inj|infusion|cream|gel|inhaler|lozenge|lozenges"
    r"|pak|pack|titration|starter|kit|oral|po|iv|im|sc|sl|pr|top|inh|neb|maximum|max|strength|extra"
    r"|daily|od|om|on|bd|bid|tds|tid|qd|qds|qid|qhs|qam|qpm|nocte|mane|prn|stat|once|twice|a|day|days"
    r"|per|x|at|night|morning|evening|bedtime|weekly|monthly)$"
)
_COMBINATION_SEPARATOR = re.compile(r"\s*(?:/|\+|&|\band\b|\bwith\b)\s*", re.IGNORECASE)
_HYPHEN = re.compile(r"\s*-\s*")
MAX_PARTS = 4  # a typed combination of more parts than this is reported whole, as not checked
SUGGESTION_CUTOFF = 80  # rapidfuzz ratio (0-100) a catalogue name must reach to be suggested
MAX_SUGGESTIONS = 3


def _trimmed(text: str) -> list[list[str]]:
    """The normalised words of a name, then the same with dose, frequency, route and form words
    dropped from either end, one at a time (the longest candidates first)."""
    tokens = normalise_name(text).split()
    candidates = [tokens]
    while len(tokens) > 1 and _DOSE_TOKEN.match(tokens[-1]):
        tokens = tokens[:-1]
        candidates.append(tokens)
    while len(tokens) > 1 and _DOSE_TOKEN.match(tokens[0]):
        tokens = tokens[1:]
        candidates.append(tokens)
    return candidates


def _key(text: str) -> str:
    """The normalised name with dose, frequency, route and form words removed from either end."""
    return " ".join(_trimmed(text)[-1])


def match_medication(entered: str, catalogue: Catalogue) -> Drug | None:
    """The catalogue drug or product one name refers to (generic, brand or synonym), or None."""
    for tokens in _trimmed(entered):
        drug = catalogue.drugs_by_name.get(" ".join(tokens))
        if drug is not None:
            return drug
    return None


def suggest(text: str, catalogue: Catalogue) -> tuple[str, ...]:
    """Catalogue names close to a name that matched nothing (at most one per drug)."""
    key = _key(text)
    if len(key) < 3:
        return ()
    hits = process.extract(
        key, catalogue.name_keys, scorer=fuzz.ratio, score_cutoff=SUGGESTION_CUTOFF, limit=MAX_SUGGESTIONS * 3
    )
    names: list[str] = []
    seen: set[str] = set()
    for hit_key, _score, _index in hits:
        drug = catalogue.drugs_by_name[hit_key]
        if drug.name in seen:
            continue
        seen.add(drug.name)
        names.append(catalogue.names_by_key[hit_key])
        if len(names) == MAX_SUGGESTIONS:
            break
    return tuple(names)


@dataclass(frozen=True)
class Unrecognised:
    text: str
    suggestions: tuple[str, ...]


@dataclass(frozen=True)
class MedicationMatch:
    """One entry of the medication list and what it was recognised as."""

    entered: str
    drugs: tuple[Drug, ...]  # the drugs checked (a product's components)
    product: Drug | None  # the catalogue product matched, for combinations
    unrecognised: tuple[Unrecognised, ...]  # what was not checked (the entry, or some of its parts)

    @property
    def recognised(self) -> bool:
        return bool(self.drugs)

    def label(self, drug: Drug) -> str:
        """ "sertraline", or "fluoxetine (entered as “Symbyax”)" when typed otherwise."""
        if normalise_name(self.entered) == normalise_name(drug.name):
            return drug.name
        return f"{drug.name} (entered as “{self.entered}”)"

    @property
    def drug(self) -> Drug | None:
        """The single drug matched (None for combinations and unrecognised entries)."""
        return self.drugs[0] if len(self.drugs) == 1 and self.product is None else None


_PARENTHESES = re.compile(r"\(([^()]*)\)")


def _dose_only(text: str) -> bool:
    """Only dose, frequency, route or form words (a part that names no drug)."""
    found = [w for w in words(text) if w not in SALT_AND_RELEASE_WORDS or _DOSE_TOKEN.match(w)]
    return bool(found) and all(_DOSE_TOKEN.match(w) for w in found) and len(found) == len(words(text))


def _parts(entered: str, separator: re.Pattern) -> list[str]:
    """The names inside one entry: the parts of a typed combination ("a/b", "a + b") and any name in
    brackets ("sertraline (Zoloft)"). Strengths and frequencies alone are not parts; a salt alone
    ("sodium citrate") is a part, and is reported if nothing knows it."""
    outside = _PARENTHESES.sub(" ", entered)
    pieces = [outside, *_PARENTHESES.findall(entered)]
    parts = [p.strip() for piece in pieces for p in separator.split(piece)]
    return [p for p in parts if words(p) and not _dose_only(p)]


def _whole(entered: str, catalogue: Catalogue) -> Drug | None:
    """The drug the whole entry names, unless that would hide a part of it: an entry with brackets or
    a combination sign matches whole only when no word but dose words was set aside
    ("olanzapine/fluoxetine" is the product; "sertraline + sodium citrate" is two parts)."""
    drug = match_medication(entered, catalogue)
    if drug is None:
        return None
    if not (_COMBINATION_SEPARATOR.search(entered) or "(" in entered):
        return drug
    kept = [w for w in words(entered) if not _DOSE_TOKEN.match(w)]
    return drug if kept == normalise_name(entered).split() else None


def recognise(entered: str, catalogue: Catalogue) -> MedicationMatch:
    drug = _whole(entered, catalogue)
    if drug is not None:
        product = drug if drug.components else None
        return MedicationMatch(entered, catalogue.components_of(drug), product, ())
    for separator in (_COMBINATION_SEPARATOR, _HYPHEN):
        parts = _parts(entered, separator)
        if not parts or parts == [entered] or len(parts) > MAX_PARTS:
            continue
        drugs: list[Drug] = []
        missing: list[Unrecognised] = []
        for part in parts:
            found = match_medication(part, catalogue)
            if found is None:
                missing.append(Unrecognised(part, suggest(part, catalogue)))
            else:
                drugs += [d for d in catalogue.components_of(found) if d not in drugs]
        if drugs:
            return MedicationMatch(entered, tuple(drugs), None, tuple(missing))
    return MedicationMatch(entered, (), None, (Unrecognised(entered, suggest(entered, catalogue)),))
