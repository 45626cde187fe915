"""Clinician-facing pages. Each view turns its input into PatientFactors and renders the engine's
Assessment; none has rules of its own. Nothing a clinician enters is stored or logged."""

from __future__ import annotations

from django.db import DatabaseError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import trigger_client_event

from .engine import PatientFactors, assess, present
from .engine.catalogue import Catalogue
from .forms import IntakeForm
from .models import CatalogueRelease
from .snapshot import ReleaseIntegrityError, catalogue_for_release, head_release, published_catalogue


def assessment_context(*, form: IntakeForm, catalogue: Catalogue, assessment) -> dict:
    """Everything the intake page and its results partial render: the form, and the assessment as
    the one presentation step shows it (``view``)."""
    return {
        "form": form,
        "catalogue": catalogue,
        "assessment": assessment,
        "view": present(assessment, catalogue) if assessment is not None else None,
        "medication_names": catalogue.medication_names,
    }


def no_catalogue(request):
    return render(request, "indications/no_catalogue.html", status=503)


def assess_form(request, catalogue: Catalogue) -> tuple[IntakeForm, object]:
    """The form bound to the request (POST) or empty (GET), and its assessment or None."""
    today = timezone.localdate()
    if request.method == "POST":
        form = IntakeForm(request.POST, catalogue=catalogue)
        assessment = assess(form.factors, catalogue, today=today) if form.assessable else None
        return form, assessment
    return IntakeForm(catalogue=catalogue), assess(PatientFactors(), catalogue, today=today)


@never_cache
@require_http_methods(["GET", "POST"])
def intake(request):
    catalogue = published_catalogue()
    if catalogue is None:
        return no_catalogue(request)
    form, assessment = assess_form(request, catalogue)
    context = assessment_context(form=form, catalogue=catalogue, assessment=assessment)
    if request.htmx and assessment is None:
        # A value needs correcting while the clinician types: say so beside the field and keep the
        # results of the earlier answers on screen, marked out of date with the reason (intake.js).
        response = render(request, "indications/intake.html#stale", context)
        response["HX-Reswap"] = "none"
        labels = [form.fields[name].label if name in form.fields else "an answer" for name in form.errors]
        reason = "an answer needs correcting (" + ", ".join(dict.fromkeys(str(x) for x in labels)) + ")"
        return trigger_client_event(response, "resultsStale", {"reason": reason})
    if request.htmx:
        return render(request, "indications/intake.html#results", context)
    return render(request, "indications/intake.html", context)


@require_GET
def about(request):
    head = CatalogueRelease.objects.order_by("-number").values("version", "published_at").first()
    catalogue = published_catalogue() if head else None
    conditions = catalogue.conditions if catalogue else ()
    return render(request, "indications/about.html", {"release": head, "conditions": conditions})


@never_cache
@require_GET
def healthz(request):
    """For load balancers and monitoring: one query (the newest release's id, version and hash). The
    release itself was verified against its hash and signature when this process loaded it; a
    release whose hash or signature does not verify is reported here as well as refused everywhere."""

    def unavailable(**details):
        response = JsonResponse({"status": "unavailable", **details}, status=503)
        response["Retry-After"] = "5"
        return response

    try:
        head = head_release()
    except DatabaseError:
        return unavailable(database="unreachable", catalogue_version=None)
    if head is None:
        return unavailable(database="ok", catalogue_version=None, catalogue="no published release")
    try:
        catalogue_for_release(*head)
    except ReleaseIntegrityError as error:
        return unavailable(database="ok", catalogue_version=head[1], catalogue=str(error))
    except DatabaseError:
        return unavailable(database="unreachable", catalogue_version=None)
    return JsonResponse({"status": "ok", "database": "ok", "catalogue_version": head[1]})
