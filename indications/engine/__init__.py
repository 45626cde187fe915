"""The decision engine: pure Python, no Django, no I/O, no clock.

    factors = parse_request(data, known_indications=...).factors
    assessment = assess(factors, catalogue, today=<the caller's date>)

A test keeps Django out of this package (tests/engine/test_purity.py).
"""

from .assess import Assessment, Flag, assess, match_medication
from .catalogue import Catalogue
from .factors import LIMITS, ParseResult, PatientFactors, parse_request

__all__ = [
    "LIMITS",
    "Assessment",
    "Catalogue",
    "Flag",
    "ParseResult",
    "PatientFactors",
    "assess",
    "match_medication",
    "parse_request",
]
