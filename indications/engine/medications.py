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

from .catalogue import Catalogue, Drug, normalise_name

_DOSE_TOKEN = re.compile(
    r"^(\d+(mg|mcg|µg|ug|g|ml|iu)?|mg|mcg|µg|ug|g|ml|iu|tab|tabs|tablet|tablets|cap|caps|capsule|capsules"
    r"|daily|od|bd|bid|tds|tid|qd|qds|qid|qhs|nocte|mane|prn|once|twice|a|day|per|x|at|night|morning)$"
)
_COMBINATION_SEPARATOR = re.compile(r"\s*(?:/|\+|&|\band\b)\s*", re.IGNORECASE)
SUGGESTION_CUTOFF = 80  # rapidfuzz ratio (0-100) a catalogue name must reach to be suggested
MAX_SUGGESTIONS = 3


def _key(text: str) -> str:
    """The normalised name with trailing strength and frequency words removed."""
    tokens = normalise_name(text).split()
    while len(tokens) > 1 and _DOSE_TOKEN.match(tokens[-1]):
        tokens.pop()
    return " ".join(tokens)


def match_medication(entered: str, catalogue: Catalogue) -> Drug | None:
    """The catalogue drug or product one name refers to (generic, brand or synonym), or None."""
    key = normalise_name(entered)
    drug = catalogue.drugs_by_name.get(key)
    if drug is not None:
        return drug
    tokens = key.split()
    while len(tokens) > 1 and _DOSE_TOKEN.match(tokens[-1]):
        tokens.pop()
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
    tokens = normalise_name(text).split()
    return all(_DOSE_TOKEN.match(t) for t in tokens)


def _parts(entered: str) -> list[str]:
    """The names inside one entry: the parts of a typed combination ("a/b", "a + b") and any name in
    brackets ("sertraline (Zoloft)"); strengths and frequencies alone are not parts."""
    outside = _PARENTHESES.sub(" ", entered)
    pieces = [outside, *_PARENTHESES.findall(entered)]
    parts = [p.strip() for piece in pieces for p in _COMBINATION_SEPARATOR.split(piece)]
    return [p for p in parts if p and not _dose_only(p)]


def recognise(entered: str, catalogue: Catalogue) -> MedicationMatch:
    drug = match_medication(entered, catalogue)
    if drug is not None:
        product = drug if drug.components else None
        return MedicationMatch(entered, catalogue.components_of(drug), product, ())
    parts = _parts(entered)
    if parts and parts != [entered]:
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
