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
# Topics printed on every sheet (the others only when they apply: see the template).
PRINTED_TOPICS = ("about", "how-to-take", "side-effects", "call-doctor", "emergency")


def render_sheet_html(request, *, sheet: PatientSheet, paper: str | None, for_pdf: bool) -> str:
    printed = [t for t in PRINTED_TOPICS if not (t == "how-to-take" and sheet.advice == "not-advised")]
    shown = [
        *(n for topic in printed for n in sheet.topic(topic)),
        *(sheet.topic(sheet.advice) if sheet.advice else ()),
        *(sheet.withheld_notes if sheet.advice != "not-advised" else ()),
        *(sheet.topic("kidneys") if sheet.kidneys else ()),
        *(sheet.topic("approved") if sheet.has_approved else ()),
        *(sheet.topic("off-label") if sheet.has_off_label else ()),
        *(() if sheet.uses else sheet.topic("no-use-chosen")),
    ]
    context = {
        "sheet": sheet,
        # The notes by topic, with template-friendly names ("off-label" -> notes.off_label).
        "notes": {topic.replace("-", "_"): items for topic, items in sheet.notes.items()},
        "withheld_notes": sheet.withheld_notes,
        "sources": list(dict.fromkeys(s for n in shown for s in n.sources)),
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
