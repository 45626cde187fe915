"""The decision engine: pure Python, no Django, no I/O, no clock.

    factors = parse_request(data, known_indications=..., known_conditions=...).factors
    assessment = assess(factors, catalogue, today=<the caller's date>)
    view = present(assessment, catalogue)      # what every door shows

A test keeps Django out of this package (tests/engine/test_purity.py).
"""

from .assess import Assessment, Flag, assess
from .catalogue import Catalogue
from .factors import LIMITS, ParseResult, PatientFactors, parse_request
from .medications import match_medication, recognise
from .presentation import Presentation, present

__all__ = [
    "LIMITS",
    "Assessment",
    "Catalogue",
    "Flag",
    "ParseResult",
    "PatientFactors",
    "Presentation",
    "assess",
    "match_medication",
    "parse_request",
    "present",
    "recognise",
]
