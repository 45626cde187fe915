"""The patient sheet: one printable page for the patient and carer, in plain language, as an HTML page
for the browser's print and as a PDF.

It says what memantine is for in this patient's case (approved or off-label), gives the titration
as a calendar with dates from the start date the clinician picks (``indications.engine.patient``
decides when a calendar may be shown at all), what side effects to watch for and when to call, and
that the dose may be lower because of the kidneys. Every sentence is a catalogue row (patient notes)
with its source. Stateless: rendered from the submitted answers and the published catalogue;
nothing is stored or logged.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .engine.patient import PatientSheet, patient_sheet
from .summary import PAPERS, choose_paper, form_answers, pdf_response

PATIENT_SHEET_CSS = "app/patient_sheet.css"


def render_sheet_html(request, *, sheet: PatientSheet, paper: str | None, for_pdf: bool) -> str:
    context = {
        "sheet": sheet,
        # The notes printed, by topic, with template-friendly names ("off-label" -> notes.off_label).
        "notes": {topic.replace("-", "_"): items for topic, items in sheet.printed.items()},
        "withheld_notes": sheet.withheld_notes,
        "sources": sheet.sources,
        "printed_at": timezone.now(),
        "paper": choose_paper(paper, sheet.region),
        "papers": PAPERS,
        "for_pdf": for_pdf,
    }
    return render_to_string("indications/patient_sheet.html", context, request=request)


def _form_sheet(request):
    """The patient sheet for the intake form's answers, or the response to send instead."""
    from .views import assessment_context

    answers, error = form_answers(request)
    if error is not None:
        return None, error
    form, catalogue, assessment = answers
    if form.errors:  # the start date (the assessment itself does not need it)
        context = assessment_context(form=form, catalogue=catalogue, assessment=None)
        return None, render(request, "indications/intake.html", context, status=400)
    start = form.cleaned_data.get("start_date")
    return (assessment, patient_sheet(assessment, catalogue, start=start)), None


@never_cache
@require_POST
def patient_sheet_page(request):
    result, error = _form_sheet(request)
    if error is not None:
        return error
    _assessment, sheet = result
    html = render_sheet_html(request, sheet=sheet, paper=request.POST.get("paper"), for_pdf=False)
    return HttpResponse(html)


@never_cache
@require_POST
def patient_sheet_pdf(request):
    result, error = _form_sheet(request)
    if error is not None:
        return error
    assessment, sheet = result
    html = render_sheet_html(request, sheet=sheet, paper=request.POST.get("paper"), for_pdf=True)
    return pdf_response(
        request,
        html,
        assessment=assessment,
        filename=f"memantine-patient-sheet-{sheet.catalogue_version}.pdf",
        stylesheet=PATIENT_SHEET_CSS,
    )
