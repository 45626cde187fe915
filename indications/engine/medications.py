"""Recognising what clinicians (and EHRs) type in a medication list.

An entry is split into parts at combination signs and brackets ("sertraline/quetiapine",
"Nuedexta (dextromethorphan, quinidine)", "... Capsule [Namenda]"). In each part, runs of words are
matched against every generic name, brand and synonym in the catalogue after normalising both
(Unicode, case, punctuation, salt and release words: ``catalogue.normalise_name``), the longest run
first. Around a match, only words that say how much, how often, by which route or in which form may
be left over ("Amantadine HCl 100 mg p.o. b.i.d.", "24 HR memantine hydrochloride 28 MG Extended
Release Oral Capsule"); any other leftover word, and any part that matches nothing (a salt alone
included: "sodium citrate"), is reported as not checked, never dropped. A catalogue combination
product counts as each of its components.

Whatever is not recognised gets "did you mean" suggestions from the catalogue's names (rapidfuzz); a
suggestion is never substituted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .catalogue import (
    SALT_AND_RELEASE_WORDS,
    SALTS_THAT_ARE_MEDICINES,
    Catalogue,
    Drug,
    normalise_name,
    words,
)

# Words that say how much, how often, by which route, in which form or why: never a drug's name.
_QUALIFIER = re.compile(
    r"^(\d+|\d+(mg|mcg|µg|ug|g|kg|ml|mls|l|iu|units?|h|hr|hrs|hour|hours|x|d|day|days|wk|mo)|x\d+|q\d+h|q\d+hr"
    r"|mg|mcg|µg|ug|g|kg|ml|mls|iu|units?|hour|hours|hr|hrs|mmol|meq"
    r"|tab|tabs|tablet|tablets|cap|caps|capsule|capsules|syrup|solution|soln|suspension|susp|liquid|elixir"
    r"|linctus|drops|spray|nasal|intranasal|in|patch|patches|transdermal|injection|injectable|inj|infusion"
    r"|cream|gel|inhaler|lozenge|lozenges|pak|pack|titration|starter|kit|dose|doses|actuation|puff|puffs"
    r"|oral|orally|po|iv|im|sc|sl|pr|top|inh|neb|by|mouth|maximum|max|strength|extra|regular"
    r"|extended|delayed|modified|sustained|controlled|immediate|release|released|film|coated|chewable"
    r"|dispersible|disintegrating|orodispersible|effervescent"
    r"|daily|nightly|od|om|on|bd|bid|tds|tid|qd|qds|qid|qhs|qam|qpm|qod|nocte|mane|prn|stat|once|twice"
    r"|thrice|times|every|each|other|the|a|an|of|to|as|needed|per|x|at|night|morning|evening|bedtime"
    r"|weekly|monthly|day|days|week|weeks|for|then|take|taking|use|rx|sig|food|meal|meals|after|before"
    r"|current|currently|[a-z])$"
)
# Where one entry holds several names: combination signs, brackets, and list punctuation.
_PART_SEPARATOR = re.compile(r"[()\[\]{}]|\s*(?:/|\+|&|;|,|\band\b|\bwith\b)\s*", re.IGNORECASE)
_DOTTED = re.compile(r"\b(?:[A-Za-z]\.){2,}")  # "b.i.d.", "p.o.", "q.d."
MAX_WORDS = 40  # words in one part considered for matching (an EHR's full product name fits)
MAX_UNRECOGNISED_PARTS = 4  # more unknown parts than this in one entry are reported as the entry
SUGGESTION_CUTOFF = 80  # rapidfuzz ratio (0-100) a catalogue name must reach to be suggested
MAX_SUGGESTIONS = 3


def _undot(text: str) -> str:
    return _DOTTED.sub(lambda m: m.group(0).replace(".", ""), text)


def _ignorable(word: str) -> bool:
    return bool(_QUALIFIER.match(word)) or word in SALT_AND_RELEASE_WORDS


def match_medication(entered: str, catalogue: Catalogue) -> Drug | None:
    """The catalogue drug or product one name refers to, ignoring qualifier words at either end
    (generic, brand or synonym), or None."""
    tokens = normalise_name(_undot(entered)).split()
    while tokens and _QUALIFIER.match(tokens[-1]) and catalogue.drugs_by_name.get(" ".join(tokens)) is None:
        tokens = tokens[:-1]
    while tokens and _QUALIFIER.match(tokens[0]) and catalogue.drugs_by_name.get(" ".join(tokens)) is None:
        tokens = tokens[1:]
    return catalogue.drugs_by_name.get(" ".join(tokens)) if tokens else None


def suggest(text: str, catalogue: Catalogue) -> tuple[str, ...]:
    """Catalogue names close to a name that matched nothing (at most one per drug)."""
    key = " ".join(w for w in normalise_name(_undot(text)).split() if not _QUALIFIER.match(w))
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


def _runs(flags: list[bool], items: list[str]) -> list[str]:
    """The contiguous runs of items whose flag is True, joined."""
    runs, current = [], []
    for flag, item in zip(flags, items, strict=True):
        if flag:
            current.append(item)
        elif current:
            runs.append(" ".join(current))
            current = []
    if current:
        runs.append(" ".join(current))
    return runs


def _match_part(part: str, catalogue: Catalogue) -> tuple[list[Drug], list[str]]:
    """The catalogue drugs named in one part (longest runs of words first) and what is left that is
    not a qualifier: the leftover texts to report as not checked."""
    ws = words(_undot(part))[:MAX_WORDS]
    used = [False] * len(ws)
    found: list[tuple[int, Drug]] = []
    for length in range(len(ws), 0, -1):
        for start in range(len(ws) - length + 1):
            if any(used[start : start + length]):
                continue
            key = " ".join(w for w in ws[start : start + length] if w not in SALT_AND_RELEASE_WORDS)
            drug = catalogue.drugs_by_name.get(key) if key else None
            if drug is not None:
                found.append((start, drug))
                used[start : start + length] = [True] * length
    if not found:
        if ws and all(_ignorable(w) and w not in SALTS_THAT_ARE_MEDICINES for w in ws):
            return [], []  # a strength, frequency or salt suffix on its own ("50 mg", "(s) HCl")
        return [], [part.strip()] if ws else []
    leftover = [not used[i] and not _ignorable(w) for i, w in enumerate(ws)]
    drugs = [drug for _, drug in sorted(found, key=lambda f: f[0])]
    return drugs, _runs(leftover, ws)


def recognise(entered: str, catalogue: Catalogue) -> MedicationMatch:
    whole = match_medication(entered, catalogue)
    if whole is not None and not _PART_SEPARATOR.search(entered):
        product = whole if whole.components else None
        return MedicationMatch(entered, catalogue.components_of(whole), product, ())
    parts = [p for p in _PART_SEPARATOR.split(entered) if p and p.strip()]
    drugs: list[Drug] = []
    missing: list[Unrecognised] = []
    products = []
    for part in parts:
        found, left = _match_part(part, catalogue)
        for drug in found:
            if drug.components:
                products.append(drug)
            drugs += [d for d in catalogue.components_of(drug) if d not in drugs]
        missing += [Unrecognised(text, suggest(text, catalogue)) for text in left]
    if len(missing) > MAX_UNRECOGNISED_PARTS:  # a list typed into one entry: reported whole
        missing = [Unrecognised(entered, ())]
    if whole is not None and whole.components and not missing:
        # The product typed with its own slash ("olanzapine/fluoxetine"): the product is named.
        return MedicationMatch(entered, catalogue.components_of(whole), whole, ())
    if not drugs:
        return MedicationMatch(entered, (), None, (Unrecognised(entered, suggest(entered, catalogue)),))
    product = products[0] if len(products) == 1 and len(drugs) == len(products[0].components) else None
    return MedicationMatch(entered, tuple(drugs), product, tuple(missing))
