"""Hypothesis strategies for fuzzing the public doors (tests/web/test_fuzz_doors.py).

Three kinds of input:

- JSON bodies for POST /api/v1/assess and /api/v1/summary.pdf: mostly the shape of
  shared/api-contract.md (so that the fuzzer gets past the first check and reaches the engine) with
  hostile leaves, and fully random JSON;
- form posts for the intake form and the printable sheet, generated from the fields of the form itself;
- query strings of hostile, percent-encoded bytes.

A JSON body is a tree of Python values plus two markers: ``Raw`` (literal JSON text that Python's json
module does not write: NaN, Infinity, 1e309, -0, a 400-digit number, deep nesting) and ``Pairs`` (an
object written as key/value pairs, so that a key can appear twice). ``encode`` writes the tree as
bytes, with a lone surrogate written either as a JSON escape (``\\ud800``) or as raw, invalid UTF-8
(``ED A0 80``).

The shapes come from the engine's own tables (``LIMITS``, ``UNITS``, the vocabularies): when the
contract grows, the fuzzer follows.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st

from indications.engine import vocabulary as vocab
from indications.engine.factors import (
    HEPATIC_KEYS,
    LEGACY_FIELDS,
    LIMITS,
    MAX_LISTED,
    MAX_MEDICATION_LENGTH,
    MAX_MEDICATIONS,
    RENAL_KEYS,
    TOP_LEVEL,
    UNIT_FIELDS,
    UNITS,
    Limit,
)

# ---------------------------------------------------------------- JSON text with what json won't write


@dataclass(frozen=True)
class Raw:
    """Literal JSON text, written as is."""

    text: str


@dataclass(frozen=True)
class Pairs:
    """A JSON object as key/value pairs: a key may repeat."""

    items: tuple[tuple[str, Any], ...]


def _string(text: str, ascii_only: bool) -> str:
    return json.dumps(text, ensure_ascii=ascii_only)


def dumps(value: Any, *, ascii_only: bool = True) -> str:
    """JSON text for a tree of dict / Pairs / list / str / number / bool / None / Raw. With
    ``ascii_only`` a lone surrogate is written as an escape (valid JSON text, invalid string);
    without, it stays a raw code point (``encode`` then writes invalid UTF-8)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, (dict, Pairs)):
        items = value.items if isinstance(value, Pairs) else tuple(value.items())
        members = (f"{_string(k, ascii_only)}:{dumps(v, ascii_only=ascii_only)}" for k, v in items)
        return "{" + ",".join(members) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v, ascii_only=ascii_only) for v in value) + "]"
    if isinstance(value, str):
        return _string(value, ascii_only)
    return json.dumps(value)  # None, bool, int (any size), float (NaN / Infinity as literals)


def encode(value: Any, *, raw_utf8: bool = False) -> bytes:
    return dumps(value, ascii_only=not raw_utf8).encode("utf-8", "surrogatepass")


# ---------------------------------------------------------------- hostile leaves

HUGE_INTEGER = "9" * 400  # float(int) raises OverflowError
TOO_MANY_DIGITS = "1" * 4301  # above Python's int_max_str_digits: json.loads raises ValueError

NUMBER_LITERALS = (
    "NaN",
    "-NaN",
    "Infinity",
    "-Infinity",
    "1e309",
    "-1e309",
    "1e400",
    "1E+400",
    "-0",
    "-0.0",
    "0e0",
    "-0e-0",
    "5e-324",
    "-5e-324",
    "1e-400",
    "2.2250738585072014e-308",
    "1.7976931348623157e308",
    HUGE_INTEGER,
    "-" + HUGE_INTEGER,
    HUGE_INTEGER + ".5",
    "0." + "0" * 400 + "1",
    "4" + "0" * 400 + "e-400",
    TOO_MANY_DIGITS,
    "01",
    "1.",
    ".5",
    "+1",
    "0x10",
)

NASTY_STRINGS = (
    "",
    " ",
    "\x00",
    "nul\x00byte",
    "\ud800",
    "\udfff",
    "a\udbffb",
    "\ud83d\ude00",  # a surrogate pair: one emoji once decoded from JSON escapes, invalid raw UTF-8
    "\x1b[2J",
    "\x7f\x85\x9f",
    "\t\r\n\x0b\x0c",
    "\u2028\u2029",
    "\u202ertl",
    "\ufeff",
    "\ufffe\uffff",
    "\U0010ffff",
    "١٢",
    "۱۲",
    "１２",
    "1,6",
    "𝟏𝟐",
    "ﬀ",
    "İ",
    "ß",
    "\u0301" * 500,
    "\u200b" * 300,
    "𒐫" * 1000,
    "x" * 10_000,
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7|add:7 }}",
    "{% debug %}",
    "%s%s%n%x",
    "${jndi:ldap://x}",
    "'; DROP TABLE indications_indication; --",
    "../../../../etc/passwd",
    "µmol/L",
    "μmol/L",
    "%00",
    "%ED%A0%80",
)

# The characters that break things: controls, surrogates, format characters, odd spaces and digits,
# combining marks, and the rest of Unicode.
nasty_characters = st.characters(categories=["Cc", "Cs", "Cf", "Co", "Zs", "Zl", "Zp", "Nd", "No", "Mn"])
hostile_text = st.one_of(
    st.sampled_from(NASTY_STRINGS),
    st.text(nasty_characters, max_size=30),
    st.text(st.characters(codec=None), max_size=30),
)
hostile_numbers = st.one_of(
    st.sampled_from(NUMBER_LITERALS).map(Raw),
    st.integers(min_value=-(10**450), max_value=10**450),
    st.floats(),  # NaN / Infinity included (written as the literals)
    st.sampled_from(["42", "1e3", "nan", "", "0"]),
    st.booleans(),
    st.none(),
)


def nested(depth: int, kind: str) -> Raw:
    """Arrays or objects nested ``depth`` deep."""
    if kind == "array":
        return Raw("[" * depth + "]" * depth)
    if kind == "object":
        return Raw('{"a":' * depth + "1" + "}" * depth)
    return Raw('[{"a":' * depth + "1" + "}]" * depth)


def deep_nesting(max_depth: int) -> st.SearchStrategy[Raw]:
    return st.builds(nested, st.integers(1, max_depth), st.sampled_from(["array", "object", "mixed"]))


hostile_leaf = st.one_of(
    hostile_numbers,
    hostile_text,
    st.just([]),
    st.just({}),
    st.lists(st.integers(), max_size=3),
    deep_nesting(3000),
)


# ---------------------------------------------------------------- leaves that follow the contract


def in_range(limit: Limit) -> st.SearchStrategy:
    """A number inside the plausible range (the engine then computes with it), or on its very edge."""
    edges = [
        limit.low,
        limit.high,
        math.nextafter(limit.low, -math.inf),
        math.nextafter(limit.high, math.inf),
    ]
    return st.one_of(
        st.floats(limit.low, limit.high),
        st.integers(math.ceil(limit.low), math.floor(limit.high)),
        st.sampled_from(edges),
    )


def number_leaf(limit: Limit, hostile: bool = True) -> st.SearchStrategy:
    if not hostile:
        return in_range(limit)
    return st.one_of(in_range(limit), in_range(limit), hostile_numbers)


VARIATIONS = {  # how a choice may be mangled; the first two are still valid (case and space forgiven)
    "upper": str.upper,
    "pad": lambda text: f" \t{text}\n ",
    "nul": lambda text: text + "\x00",
    "surrogate": lambda text: text + "\ud800",
    "micro": lambda text: text.replace("u", "µ"),
    "long": lambda text: text * 2000,
}


def choice_leaf(choices: Sequence[str], hostile: bool = True) -> st.SearchStrategy:
    """One of the choices, as written or as a clinician (or an attacker) might vary it."""
    valid = st.sampled_from(list(choices))
    variations = list(VARIATIONS) if hostile else ["upper", "pad"]
    varied = st.tuples(valid, st.sampled_from(variations)).map(lambda pair: VARIATIONS[pair[1]](pair[0]))
    if not hostile:
        return st.one_of(valid, valid, varied)
    return st.one_of(valid, valid, varied, hostile_leaf)


@st.composite
def measure(draw, quantity: str, hostile: bool = True) -> dict:
    """A unit-bearing value: value + unit, or the legacy fixed-unit field; when hostile, also a unit
    without its value or a value without its unit."""
    units = list(UNITS[quantity])
    unit_key = UNIT_FIELDS[quantity]
    legacy = LEGACY_FIELDS.get(quantity)
    forms = ["unit", "unit", "unit", "legacy", *(["unit-only", "value-only"] if hostile else [])]
    form = draw(st.sampled_from(forms))
    if form == "legacy" and legacy:
        return {legacy[0]: draw(number_leaf(LIMITS[f"{quantity}:{legacy[1]}"], hostile))}
    unit = draw(choice_leaf(units, hostile))
    limit = LIMITS.get(f"{quantity}:{unit}") if isinstance(unit, str) else None
    limit = limit or LIMITS[f"{quantity}:{draw(st.sampled_from(units))}"]
    if form == "unit-only":
        return {unit_key: unit}
    if form == "value-only":
        return {quantity: draw(number_leaf(limit, hostile))}
    return {quantity: draw(number_leaf(limit, hostile)), unit_key: unit}


@st.composite
def renal_estimate(draw, hostile: bool = True) -> dict:
    body: dict = {}
    if draw(st.integers(0, 4)):
        body["age_years"] = draw(number_leaf(LIMITS["age_years"], hostile))
        body["sex"] = draw(choice_leaf(list(vocab.SEXES), hostile))
        body.update(draw(measure("weight", hostile)))
        body.update(draw(measure("serum_creatinine", hostile)))
    if draw(st.booleans()):
        body.update(draw(measure("height", hostile)))
    if draw(st.booleans()) or not body:
        body["egfr_ml_min_1_73m2"] = draw(number_leaf(LIMITS["egfr_ml_min_1_73m2"], hostile))
    if draw(st.booleans()):
        body["use_estimate"] = draw(choice_leaf(list(vocab.CHOOSABLE_ESTIMATES), hostile))
    if hostile:
        for key in draw(st.lists(st.sampled_from(sorted(body)), max_size=2)):
            body.pop(key, None)  # a required value missing
    return body


@st.composite
def hepatic_components(draw, hostile: bool = True) -> dict:
    body: dict = {}
    body.update(draw(measure("bilirubin", hostile)))
    body.update(draw(measure("albumin", hostile)))
    body["inr"] = draw(number_leaf(LIMITS["inr"], hostile))
    body["ascites"] = draw(choice_leaf(list(vocab.ASCITES), hostile))
    body["encephalopathy"] = draw(choice_leaf(list(vocab.ENCEPHALOPATHY), hostile))
    if hostile:
        for key in draw(st.lists(st.sampled_from(sorted(body)), max_size=2)):
            body.pop(key, None)
    return body


def mixed_members(keys: Sequence[str]) -> st.SearchStrategy[dict]:
    """Members of the right names (and a few wrong ones) with anything as values."""
    return st.dictionaries(
        st.one_of(st.sampled_from(list(keys)), hostile_text),
        st.one_of(hostile_leaf, st.booleans()),
        max_size=6,
    )


def renal_bodies(hostile: bool = True) -> st.SearchStrategy:
    shapes = [
        st.fixed_dictionaries({"crcl_ml_min": number_leaf(LIMITS["crcl_ml_min"], hostile)}),
        st.fixed_dictionaries({"dialysis": st.booleans()}),
        renal_estimate(hostile),
        renal_estimate(hostile),
    ]
    if hostile:
        shapes += [st.fixed_dictionaries({"dialysis": hostile_leaf}), mixed_members(RENAL_KEYS), hostile_leaf]
    return st.one_of(*shapes)


def hepatic_bodies(hostile: bool = True) -> st.SearchStrategy:
    shapes = [
        st.fixed_dictionaries({"child_pugh_class": choice_leaf(list(vocab.CHILD_PUGH_CLASSES), hostile)}),
        hepatic_components(hostile),
        hepatic_components(hostile),
    ]
    if hostile:
        shapes += [mixed_members(HEPATIC_KEYS), hostile_leaf]
    return st.one_of(*shapes)


def string_list(known: Sequence[str], max_size: int, hostile: bool = True) -> st.SearchStrategy:
    if not hostile:
        return st.lists(st.sampled_from(list(known)), max_size=4)
    item = st.one_of(st.sampled_from(list(known)), st.sampled_from(list(known)), hostile_text, hostile_leaf)
    return st.one_of(st.lists(item, max_size=max_size), st.lists(item, max_size=4), hostile_leaf)


def medication_names(names: Sequence[str]) -> st.SearchStrategy[str]:
    """Catalogue names, alone, combined or decorated with junk (the matcher splits and fuzzy-matches
    them), and names that are only junk, long or short."""
    name = st.sampled_from(list(names))
    joiner = st.sampled_from([" / ", " + ", " (", ") ", ", ", "; ", " and ", " with ", " ", "\n", "[", "]"])
    combined = st.lists(
        st.one_of(name, hostile_text, st.sampled_from(["100 mg", "b.i.d.", "HCl", "XR"])),
        min_size=1,
        max_size=5,
    )
    return st.one_of(
        name,
        st.tuples(combined, joiner).map(lambda pair: pair[1].join(pair[0])),
        st.tuples(name, hostile_text).map(lambda pair: pair[0] + pair[1]),
        hostile_text,
        st.text(min_size=MAX_MEDICATION_LENGTH - 5, max_size=MAX_MEDICATION_LENGTH + 5),
    )


@dataclass(frozen=True)
class Vocabulary:
    """What the published catalogue knows (read from it by the tests)."""

    indications: tuple[str, ...]
    conditions: tuple[str, ...]
    medications: tuple[str, ...]


@functools.cache
def _members(words: Vocabulary, hostile: bool) -> st.SearchStrategy[dict]:
    names = medication_names(words.medications)
    catalogue_name = st.sampled_from(words.medications)
    medication_item = (
        st.one_of(names, hostile_leaf) if hostile else st.one_of(catalogue_name, catalogue_name, names)
    )
    medications = st.lists(medication_item, max_size=8)
    if hostile:
        medications = st.one_of(
            medications, st.lists(medication_item, max_size=MAX_MEDICATIONS + 3), hostile_leaf
        )
    return st.fixed_dictionaries(
        {},
        optional={
            "region": choice_leaf(list(vocab.REGIONS), hostile),
            "formulation": choice_leaf(list(vocab.FORMULATIONS), hostile),
            "indications": string_list(words.indications, MAX_LISTED + 2, hostile),
            "renal": renal_bodies(hostile),
            "hepatic": hepatic_bodies(hostile),
            "medications": medications,
            "conditions": string_list(words.conditions, MAX_LISTED + 2, hostile),
        },
    )


@functools.cache
def api_bodies(words: Vocabulary) -> st.SearchStrategy:
    """Request bodies that follow the contract's shape: half of them plausible (in-range numbers,
    known choices and slugs, medication names with junk in them) so that the engine, the medication
    matcher and the presentation run; the other half with hostile leaves, an unknown member now and
    then, and now and then a member given twice."""
    plausible, hostile = _members(words, hostile=False), _members(words, hostile=True)

    @st.composite
    def bodies(draw):
        if draw(st.booleans()):
            return draw(plausible)
        body = draw(hostile)
        if draw(st.integers(0, 9)) == 0:
            body[draw(hostile_text)] = draw(hostile_leaf)
        if body and draw(st.integers(0, 9)) == 0:
            twice = draw(st.sampled_from(sorted(body)))
            return Pairs((*body.items(), (twice, draw(hostile_leaf))))
        return body

    return bodies()


json_keys = st.one_of(st.sampled_from([*TOP_LEVEL, *RENAL_KEYS, *HEPATIC_KEYS]), hostile_text)
json_leaves = st.one_of(st.none(), st.booleans(), hostile_numbers, hostile_text, st.text(max_size=10))
random_json = st.recursive(
    json_leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(json_keys, children, max_size=5),
        st.lists(st.tuples(json_keys, children), max_size=4).map(lambda items: Pairs(tuple(items))),
    ),
    max_leaves=25,
)

# Bodies that are not JSON (or barely): each must be a 400, never a 500.
RAW_BODIES = (
    b"",
    b" ",
    b"\n",
    b"null",
    b"[]",
    b'"text"',
    b"42",
    b"true",
    b"{}{}",
    b"{",
    b"}",
    b'{"region":}',
    b'{"region":"us",}',
    b"{'region': 'us'}",
    b"\xef\xbb\xbf{}",  # a UTF-8 byte-order mark
    b"\xff\xfe{\x00}\x00",  # UTF-16
    b"\x00",
    b'{"medications":["\xed\xa0\x80"]}',
    b'{"medications":["\xff"]}',
    b'{"a":1}\x00',
)
raw_bodies = st.one_of(st.sampled_from(RAW_BODIES), st.binary(max_size=300))

CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "application/JSON",
    "application/json\x00",
    "text/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "",
)


# ---------------------------------------------------------------- query strings


def percent(value: str | bytes) -> str:
    data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return quote_from_bytes(data, safe="")


query_values = st.one_of(
    st.sampled_from(["", "a4", "letter", "A4 ", "LETTER", "\x00", "%00", "\ud800", "x" * 5000]),
    hostile_text,
    st.binary(max_size=40),
)


def query_strings(names: Sequence[str], known_values: Sequence[str] = ()) -> st.SearchStrategy[str]:
    """``name=value&...`` with the names a door reads, a stray name or two and hostile values (also
    known good values with junk around them)."""
    values = query_values
    if known_values:
        known = st.sampled_from(list(known_values))
        values = st.one_of(values, known, st.tuples(known, hostile_text).map("".join))
    pair = st.tuples(st.one_of(st.sampled_from(list(names)), hostile_text), values)
    return st.lists(pair, max_size=4).map(
        lambda pairs: "&".join(f"{percent(name)}={percent(value)}" for name, value in pairs)
    )


# ---------------------------------------------------------------- form posts

FORM_NUMBERS = (
    HUGE_INTEGER,
    "-" + HUGE_INTEGER,
    "4" + "0" * 5000,
    "1e400",
    "1e309",
    "1e2",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "-0",
    "+0",
    "-0.0",
    ".5",
    "5.",
    "1_000",
    "0x1A",
    "١٢",
    "۱۲",
    "１２",
    "𝟏𝟐",
    "1,6",
    "1.6.1",
    " 42 ",
    "\t42\n",
    "42\x00",
    "0." + "0" * 400 + "1",
    "5e-324",
    "-",
    "+",
    ".",
)
FORM_FLAGS = ("on", "true", "1", "", "false", "0", "off", "\x00")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form as the fuzzer sees it."""

    name: str
    kind: str  # "number" | "choice" | "multiple" | "flag" | "text"
    choices: tuple[str, ...] = ()
    limits: tuple[Limit, ...] = ()
    required: bool = False


def decimal_text(limit: Limit) -> st.SearchStrategy[str]:
    return st.tuples(in_range(limit), st.integers(0, 4)).map(lambda pair: f"{pair[0]:.{pair[1]}f}")


def field_values(spec: FieldSpec, medication_words: Sequence[str]) -> st.SearchStrategy[list]:
    """The values one field is posted with (none, one, or several: a repeated key)."""
    hostile = st.one_of(hostile_text, st.sampled_from(FORM_NUMBERS), st.binary(max_size=20))
    if spec.kind == "number":
        good = st.one_of(*(decimal_text(limit) for limit in spec.limits)) if spec.limits else st.nothing()
        one = st.one_of(good, good, st.sampled_from(FORM_NUMBERS), hostile)
    elif spec.kind in ("choice", "multiple"):
        good = st.sampled_from(list(spec.choices) or [""])
        one = st.one_of(good, good, good, hostile)
    elif spec.kind == "flag":
        one = st.one_of(st.sampled_from(FORM_FLAGS), hostile)
    else:
        names = medication_names(medication_words)
        listed = st.tuples(st.lists(names, max_size=12), st.sampled_from(["\n", ", ", ";", "\r\n"]))
        one = st.one_of(listed.map(lambda pair: pair[1].join(pair[0])), hostile, st.text(max_size=3000))
    most = 6 if spec.kind == "multiple" else 2
    return st.lists(one, max_size=most)


def _form_number(value) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def form_from_api(body: dict, specs: Sequence[FieldSpec]) -> list[tuple[str, str]]:
    """A plausible API body as the intake form would post it (the inverse of IntakeForm.as_request):
    the legacy fixed-unit members become value + unit, choices take the form's spelling."""
    kinds = {spec.name: spec for spec in specs}
    legacy = {name: (quantity, unit) for quantity, (name, unit) in LEGACY_FIELDS.items()}
    pairs: list[tuple[str, str]] = []

    def add(name: str, value) -> None:
        spec = kinds.get(name)
        if spec is None:
            return
        if isinstance(value, bool):
            value = "on" if value else ""
        elif isinstance(value, (int, float)):
            value = _form_number(value)
        elif spec.choices:  # "  MG/DL " is forgiven by the API, not by a select box
            value = next((c for c in spec.choices if c.casefold() == str(value).strip().casefold()), value)
        pairs.append((name, value))

    for key in ("region", "formulation"):
        if key in body:
            add(key, body[key])
    for key in ("indications", "conditions"):
        for value in body.get(key, []):
            add(key, value)
    for section in ("renal", "hepatic"):
        for key, value in body.get(section, {}).items():
            if key in legacy:
                quantity, unit = legacy[key]
                add(quantity, value)
                add(UNIT_FIELDS[quantity], unit)
            else:
                add(key, value)
    if body.get("medications"):
        pairs.append(("medications", "\n".join(body["medications"])))
    given = {name for name, _ in pairs}
    for spec in specs:  # what the API defaults (region, formulation) the form requires
        if spec.required and spec.name not in given and spec.choices:
            pairs.append((spec.name, spec.choices[0]))
    return pairs


@st.composite
def plausible_form(draw, words: Vocabulary, specs: tuple[FieldSpec, ...]) -> list[tuple[str, str]]:
    pairs = form_from_api(draw(_members(words, hostile=False)), specs)
    for spec in specs:  # the catalogue's tick boxes (drug classes): any of them
        if spec.kind == "multiple" and spec.name not in ("indications", "conditions"):
            pairs += [(spec.name, v) for v in draw(st.lists(st.sampled_from(spec.choices), max_size=2))]
    return pairs


@functools.cache
def form_posts(specs: tuple[FieldSpec, ...], words: Vocabulary, extra: tuple[str, ...] = ()):
    """A form post as (name, value) pairs: half of them plausible (a plausible API body as the form
    would post it, so that the engine and the page run), the other half every field with valid or
    hostile values, some left out, some repeated, and a few names the form does not have."""
    per_field = [st.tuples(st.just(spec.name), field_values(spec, words.medications)) for spec in specs]
    plausible = plausible_form(words, specs)
    strays = st.lists(
        st.tuples(st.one_of(st.sampled_from([*extra, "csrfmiddlewaretoken"]), hostile_text), hostile_text),
        max_size=3,
    )

    @st.composite
    def posts(draw):
        if draw(st.booleans()):
            return draw(plausible)
        pairs: list[tuple[str, str | bytes]] = []
        for name, values in draw(st.tuples(*per_field)):
            pairs += [(name, value) for value in values]
        return pairs + draw(strays)

    return posts()


def urlencode(pairs: Sequence[tuple[str, str | bytes]]) -> bytes:
    """application/x-www-form-urlencoded bytes for any values, invalid UTF-8 included."""
    return "&".join(f"{percent(name)}={percent(value)}" for name, value in pairs).encode("ascii")
