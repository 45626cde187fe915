"""Editorial pages outside admin: the release overview, publishing, and the draft preview.
Permission checks are in each view (anonymous users are sent to log in; others get 403)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .models import CatalogueRelease
from .services import PublishRefused, pending_changes, publish_release
from .snapshot import draft_catalogue
from .views import assess_form, assessment_context


@never_cache
@login_required
@permission_required("indications.view_cataloguerelease", raise_exception=True)
def releases(request):
    context = {
        **vars(pending_changes()),
        "releases": CatalogueRelease.objects.defer("snapshot").select_related("published_by"),
        "can_publish": request.user.has_perm("indications.publish_release"),
    }
    return render(request, "indications/releases.html", context)


@never_cache
@login_required
@permission_required("indications.publish_release", raise_exception=True)
@require_http_methods(["GET", "POST"])
def publish(request):
    refused: list[str] = []
    summary = ""
    if request.method == "POST":
        summary = request.POST.get("change_summary", "")
        try:
            release = publish_release(user=request.user, change_summary=summary)
        except PublishRefused as error:
            refused = error.problems
        else:
            messages.success(request, f"Published release {release.version}. Clinicians now see it.")
            return redirect(reverse("indications:releases"))
    context = {**vars(pending_changes()), "refused": refused, "change_summary": summary}
    return render(request, "indications/publish.html", context, status=400 if refused else 200)


@never_cache
@login_required
@permission_required("indications.view_indication", raise_exception=True)
@require_http_methods(["GET", "POST"])
def preview(request):
    """The intake page computed with the draft (unpublished) catalogue, clearly marked."""
    catalogue = draft_catalogue()
    form, assessment = assess_form(request, catalogue)
    context = {
        **assessment_context(form=form, catalogue=catalogue, assessment=assessment),
        "preview": True,
        "form_url": reverse("indications:preview"),
    }
    if request.htmx:
        return render(request, "indications/intake.html#results", context)
    return render(request, "indications/intake.html", context)
