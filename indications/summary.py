"""The printable summary sheet: an HTML page for the browser's print, and the same page as a PDF.

Stateless: rendered from the submitted answers and the published catalogue; nothing is stored.
WeasyPrint is imported only when a PDF is made.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from decision_support.errors import error_response

from .engine.assess import Assessment
from .engine.presentation import Presentation, References
from .templatetags.clinical import short_address

PAPERS = {"a4": "A4", "letter": "US Letter"}
SUMMARY_CSS = "app/summary.css"


def choose_paper(value: str | None, region: str) -> str:
    value = (value or "").strip().lower()
    if value in PAPERS:
        return value
    return "letter" if region == "us" else "a4"


@dataclass(frozen=True)
class Reference:
    label: str
    url: str
    short: str  # what is printed: "PMID 123", "doi:10.1/x" or the address without its scheme


class SheetReferences(References):
    """The presentation step's reference numbering, listed with short addresses for the sheet."""

    @property
    def entries(self) -> list[Reference]:
        return [Reference(item.label, item.url, short_address(item.url)) for item in self.items]


def map_axes(view: Presentation) -> dict | None:
    """The evidence maps' scales in words (the same on every map of a sheet): the printed maps carry
    no text of their own, which would be too small to read at their printed size."""
    for card in view.indications:
        drawn = card.evidence_map
        if card.in_focus and drawn is not None and len(drawn.x_ticks) > 1:
            years = [int(t.label) for t in drawn.x_ticks]
            return {
                "first": years[0],
                "last": years[-1],
                "step": years[1] - years[0],
                "n": [t.label for t in drawn.y_ticks],
            }
    return None


def printed_time():
    """Now in the service's time zone (TIME_ZONE, from DJANGO_TIME_ZONE), and the zone's name as
    printed: "Europe/London (GMT)", or "UTC"."""
    zone = timezone.get_default_timezone()
    now = timezone.localtime(timezone.now(), zone)
    name = getattr(zone, "key", str(zone))
    abbreviation = now.tzname() or ""
    return now, name if abbreviation in ("", name) else f"{name} ({abbreviation})"


def render_summary_html(
    request, *, assessment: Assessment, view: Presentation, paper: str | None, for_pdf: bool
) -> str:
    printed_at, printed_zone = printed_time()
    context = {
        "assessment": assessment,
        "view": view,
        "refs": SheetReferences(),
        "map_axes": map_axes(view),
        "printed_at": printed_at,
        "printed_zone": printed_zone,
        "paper": choose_paper(paper, assessment.region),
        "papers": PAPERS,
        "for_pdf": for_pdf,
    }
    return render_to_string("indications/summary.html", context, request=request)


@functools.cache
def _stylesheet(path: str):
    from weasyprint import CSS  # imported lazily: heavy, and only needed for PDFs

    return CSS(filename=path)


def pdf_bytes(html: str, stylesheet: str = SUMMARY_CSS) -> bytes:
    """A tagged PDF (PDF/UA-1 variant) with embedded, subset fonts, styled by ``stylesheet`` (a static
    path: the summary's, or the patient sheet's)."""
    from weasyprint import HTML

    path = finders.find(stylesheet)
    # Parsed once per process; re-read on every PDF while developing (DEBUG) so CSS edits show.
    css = _stylesheet.__wrapped__(path) if settings.DEBUG else _stylesheet(path)
    document = HTML(string=html, url_fetcher=_no_fetching())
    return document.write_pdf(stylesheets=[css], pdf_tags=True, pdf_variant="pdf/ua-1")


@functools.cache
def _no_fetching():
    """The sheets need nothing from outside (their pictures are inline SVG, their fonts the system's):
    a URL that ever reached one (an <img>, a stylesheet, a CSS url()) is not fetched, whatever its
    scheme (file, http, data...). WeasyPrint then leaves it out with a warning."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=())


class PdfRenderers:
    """At most ``renders`` PDFs are made at once in a process, and at most ``waiting`` more wait for
    their turn; a request beyond that is told to retry (503) at once. A PDF costs about a third of a
    second of CPU: without a bound, a burst of them would take every worker thread and a health check
    or a clinician's page would wait seconds for a thread (the load benchmark saw 11 s)."""

    def __init__(self, renders: int, waiting: int, wait_seconds: float):
        self.slots = threading.BoundedSemaphore(renders)
        self.waiting_limit = waiting
        self.wait_seconds = wait_seconds
        self.waiting = 0
        self.lock = threading.Lock()

    def render(self, html: str, stylesheet: str = SUMMARY_CSS) -> bytes | None:
        """The PDF, or None when too many are being made (the caller answers 503)."""
        with self.lock:
            if self.waiting >= self.waiting_limit:
                return None
            self.waiting += 1
        try:
            acquired = self.slots.acquire(timeout=self.wait_seconds)
        finally:
            with self.lock:
                self.waiting -= 1
        if not acquired:
            return None
        try:
            return pdf_bytes(html, stylesheet)
        finally:
            self.slots.release()


renderers = PdfRenderers(
    settings.PDF_RENDERS_PER_PROCESS, settings.PDF_WAITING_PER_PROCESS, settings.PDF_WAIT_SECONDS
)
BUSY = "Many summaries are being made just now. Try again in a few seconds."


def pdf_response(
    request,
    html: str,
    *,
    assessment: Assessment,
    filename: str | None = None,
    stylesheet: str = SUMMARY_CSS,
) -> HttpResponse:
    pdf = renderers.render(html, stylesheet)
    if pdf is None:
        response = error_response(request, 503, field="pdf", message=BUSY)
        response["Retry-After"] = "2"  # a PDF takes about half a second
        return response
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = filename or f"memantine-summary-{assessment.catalogue_version}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def form_answers(request):
    """The intake form's answers for a printable: ((form, catalogue, assessment), None), or (None, the
    response to send instead: no published catalogue, 503; answers to correct, the intake page with
    its errors beside the fields, 400)."""
    from .snapshot import published_catalogue
    from .views import assess_form, assessment_context, no_catalogue

    catalogue = published_catalogue()
    if catalogue is None:
        return None, no_catalogue(request)
    form, assessment = assess_form(request, catalogue)
    # A group still being typed is a note on screen; on paper it would read as "not given" while
    # values were typed: finish or clear it first.
    for note in form.group_notes.values() if assessment is not None else ():
        form.add_error(None, f"{note} Finish these values, or clear them, before printing.")
        assessment = None
    if assessment is None:
        context = assessment_context(form=form, catalogue=catalogue, assessment=None)
        return None, render(request, "indications/intake.html", context, status=400)
    return (form, catalogue, assessment), None


def _form_assessment(request):
    from .engine import present

    answers, error = form_answers(request)
    if error is not None:
        return None, error
    _form, catalogue, assessment = answers
    return (assessment, present(assessment, catalogue)), None


@never_cache
@require_POST
def summary_page(request):
    result, error = _form_assessment(request)
    if error is not None:
        return error
    assessment, view = result
    html = render_summary_html(
        request, assessment=assessment, view=view, paper=request.POST.get("paper"), for_pdf=False
    )
    return HttpResponse(html)


@never_cache
@require_POST
def summary_pdf(request):
    result, error = _form_assessment(request)
    if error is not None:
        return error
    assessment, view = result
    html = render_summary_html(
        request, assessment=assessment, view=view, paper=request.POST.get("paper"), for_pdf=True
    )
    return pdf_response(request, html, assessment=assessment)
