"""The evidence at a glance: one mark per study, placed by year and size, drawn on the server.

``evidence_map()`` turns an indication's published studies into the geometry of a small SVG (the
templates only draw it): x is the year, y the number of participants on a log scale (studies that
report none sit on their own row), the shape is the design and the fill is the result, so the map
reads in black and white. The approved use's studies are drawn beside them, in grey outline, for
comparison. ``description`` says the same in words, for screen readers and for anyone who prefers
text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import vocabulary as vocab
from .catalogue import Indication, Study

WIDTH, HEIGHT = 360, 132
LEFT, RIGHT = 44, 350  # plot area, x
TOP, BOTTOM = 10, 96  # plot area, y (participants on a log scale)
UNKNOWN_ROW = 114  # y of studies that report no number of participants
SIZE = 5.0
N_MIN, N_MAX = 5, 5000  # the y axis (log scale), wide enough for any trial and pooled analysis
N_TICKS = (10, 100, 1000)

# Fill by result; the mixed half-fill is a gradient defined in each SVG (its id is per map).
FILLS = {"positive": "#000", "negative": "#fff", "inconclusive": "#999"}


@dataclass(frozen=True)
class Mark:
    path: str  # SVG path data
    fill: str  # a colour or url(#...) (never colour alone: shape and fill pattern carry the meaning)
    comparison: bool  # a study of the approved use, drawn for comparison
    label: str  # "Ghaleiha 2013: randomised controlled trial, n=42, positive"


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class EvidenceMap:
    id: str  # unique on a page: prefixes the SVG's title, description and gradient ids
    width: int
    height: int
    marks: tuple[Mark, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    unknown_row: float
    plot: tuple[float, float, float, float]  # left, top, right, bottom
    title: str
    description: str

    @property
    def half_fill_id(self) -> str:
        return f"{self.id}-half"


@dataclass(frozen=True)
class YearScale:
    """The same years on every map of a page, so maps can be compared side by side."""

    first: int
    last: int

    @classmethod
    def covering(cls, indications: tuple[Indication, ...]) -> YearScale:
        years = [s.year for i in indications for s in i.studies if s.year]
        if not years:
            return cls(2000, 2030)
        return cls(5 * (min(years) // 5), 5 * (max(years) // 5 + 1))

    def x(self, year: int) -> float:
        return LEFT + (RIGHT - LEFT) * (year - self.first) / (self.last - self.first)

    def ticks(self) -> tuple[Tick, ...]:
        step = 5 if self.last - self.first <= 40 else 10
        return tuple(Tick(self.x(y), str(y)) for y in range(self.first, self.last + 1, step))


def _y(n: int | None) -> float:
    if not n:
        return UNKNOWN_ROW
    n = min(max(n, N_MIN), N_MAX)
    share = (math.log10(n) - math.log10(N_MIN)) / (math.log10(N_MAX) - math.log10(N_MIN))
    return BOTTOM - (BOTTOM - TOP) * share


def _path(shape: str, x: float, y: float, r: float = SIZE) -> str:
    def pts(points) -> str:
        return "M" + " L".join(f"{px:.1f},{py:.1f}" for px, py in points) + " Z"

    if shape == "circle":
        return f"M{x - r:.1f},{y:.1f} a{r:g},{r:g} 0 1,0 {2 * r:g},0 a{r:g},{r:g} 0 1,0 {-2 * r:g},0 Z"
    if shape == "square":
        s = r * 0.9
        return pts([(x - s, y - s), (x + s, y - s), (x + s, y + s), (x - s, y + s)])
    if shape == "diamond":
        s = r * 1.3
        return pts([(x, y - s), (x + s, y), (x, y + s), (x - s, y)])
    if shape == "triangle":
        s = r * 1.2
        return pts([(x, y - s), (x + s, y + r), (x - s, y + r)])
    # hexagon
    return pts([(x + r * math.cos(a), y + r * math.sin(a)) for a in (math.pi / 3 * k for k in range(6))])


def study_label(study: Study) -> str:
    design = vocab.STUDY_DESIGNS.get(study.design, study.design).lower()
    size = f"n={study.participants}" if study.participants else "n not reported"
    return f"{study.name}: {design}, {size}, {study.result}"


def drawable(study: Study) -> bool:
    """A study the map can draw truthfully: dated, of a known design, with a known result."""
    return bool(study.year) and study.design in vocab.DESIGN_SHAPES and study.result in vocab.STUDY_RESULTS


GAP = 2 * SIZE + 1  # centres closer than this would hide one mark behind another
# Where a mark may step to when its place is taken: rings of growing radius, sideways first.
STEPS = [(0.0, 0.0)] + [
    (radius * math.cos(math.radians(angle)), radius * math.sin(math.radians(angle)))
    for radius in (GAP, 1.5 * GAP, 2 * GAP, 2.5 * GAP, 3 * GAP)
    for angle in (0, 180, 30, 150, 330, 210, 60, 120, 300, 240, 90, 270)
]


def _place(x: float, y: float, taken: list[tuple[float, float]]) -> tuple[float, float]:
    """The nearest free place to (x, y) inside the plot, so that no mark hides another."""
    for dx, dy in STEPS:
        px, py = x + dx, y + dy
        inside = LEFT + SIZE <= px <= RIGHT - SIZE and TOP - SIZE <= py <= UNKNOWN_ROW + SIZE
        if inside and all(math.hypot(px - ox, py - oy) >= GAP for ox, oy in taken):
            return px, py
    return min(max(x, LEFT + SIZE), RIGHT - SIZE), y  # too crowded to step aside: overlap, never misdate


def _marks(
    studies: tuple[Study, ...],
    scale: YearScale,
    map_id: str,
    comparison: bool,
    taken: list[tuple[float, float]],
) -> list[Mark]:
    marks = []
    for study in studies:
        x, y = _place(scale.x(study.year), _y(study.participants), taken)
        taken.append((x, y))
        shape = vocab.DESIGN_SHAPES[study.design]
        fill = f"url(#{map_id}-half)" if study.result == "mixed" else FILLS[study.result]
        marks.append(Mark(_path(shape, x, y), fill, comparison, study_label(study)))
    return marks


def _range(values: list[int]) -> str:
    if not values:
        return "n not reported"
    low, high = min(values), max(values)
    return f"n={low}" if low == high else f"n {low}–{high}"


def _words(studies: tuple[Study, ...]) -> str:
    """ "randomised controlled trials: 4 positive (n 32–42), 1 negative (n=70); ..." """
    parts = []
    for shape, label in vocab.SHAPE_LABELS.items():
        group = [s for s in studies if vocab.DESIGN_SHAPES.get(s.design, "circle") == shape]
        if not group:
            continue
        results = []
        for result in ("positive", "mixed", "negative", "inconclusive"):
            some = [s for s in group if s.result == result]
            if some:
                sizes = _range([s.participants for s in some if s.participants])
                unknown = sum(1 for s in some if not s.participants)
                if unknown and len(some) > unknown:
                    sizes += f"; {unknown} without n"
                results.append(f"{len(some)} {result} ({sizes})")
        parts.append(f"{label}: {', '.join(results)}")
    return "; ".join(parts)


def _years(studies: tuple[Study, ...]) -> str:
    first, last = min(s.year for s in studies), max(s.year for s in studies)
    return str(first) if first == last else f"{first}–{last}"


def evidence_map(
    indication: Indication, *, approved: tuple[Indication, ...], scale: YearScale, map_id: str
) -> EvidenceMap | None:
    """The map of one indication's published studies (None when it has none it can draw)."""
    studies = tuple(s for s in indication.studies if drawable(s))
    if not studies:
        return None
    count = len(studies)
    described = (
        f"{count} published {'study' if count == 1 else 'studies'}, {_years(studies)}."
        f" {vocab.sentence(_words(studies))}."
    )
    undrawn = len(indication.studies) - count
    if undrawn:
        described += (
            f" {undrawn} more {'study is' if undrawn == 1 else 'studies are'} listed but not drawn"
            " (year, design or result not recorded)."
        )
    taken: list[tuple[float, float]] = []
    comparison_marks: list[Mark] = []
    if indication.status != "approved":
        for other in approved:
            theirs = tuple(s for s in other.studies if drawable(s))
            if theirs:
                comparison_marks += _marks(theirs, scale, map_id, comparison=True, taken=taken)
                described += f" For comparison, the approved use ({other.name}): {_words(theirs)}."
    marks = comparison_marks + _marks(studies, scale, map_id, comparison=False, taken=taken)
    return EvidenceMap(
        id=map_id,
        width=WIDTH,
        height=HEIGHT,
        marks=tuple(marks),  # the comparison first, so it is drawn underneath
        x_ticks=scale.ticks(),
        y_ticks=tuple(Tick(_y(n), f"{n:,}".replace(",", " ")) for n in N_TICKS),
        unknown_row=UNKNOWN_ROW,
        plot=(LEFT, TOP, RIGHT, BOTTOM),
        title=f"Evidence map: {indication.name}",
        description=described,
    )


# The key to the maps, from the same vocabularies and geometry the maps use (shape, then fill).
LEGEND_ID = "legend-half"
LEGEND_SHAPES = tuple((label.lower(), _path(shape, 0, 0, 4.5)) for shape, label in vocab.SHAPE_LABELS.items())
LEGEND_FILLS = tuple(
    (vocab.STUDY_RESULTS[result].lower(), f"url(#{LEGEND_ID})" if result == "mixed" else FILLS[result])
    for result in ("positive", "mixed", "negative", "inconclusive")
)
