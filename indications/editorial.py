"""Editorial pages outside admin: the release overview, publishing, and the draft preview.
Permission checks are in each view (anonymous users are sent to log in; others get 403)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from .models import CatalogueRelease
from .services import PublishRefused, approve_draft, publish_release, review_draft
from .snapshot import SIGNED_FIELDS, draft_catalogue, release_is_genuine
from .views import assess_form, assessment_context


def _review_context(review) -> dict:
    changes = review.changes
    return {
        "review": review,
        "latest": review.latest,
        "unchanged": review.unchanged,
        "changes": changes,
        "clinical_count": sum(1 for c in changes if c.clinical and c.visible),
        "problems": review.problems,
    }


@never_cache
@login_required
@permission_required("indications.view_cataloguerelease", raise_exception=True)
def releases(request):
    context = {
        **_review_context(review_draft()),
        "releases": CatalogueRelease.objects.defer("snapshot", "editorial_state").select_related(
            "published_by"
        ),
        "can_publish": request.user.has_perm("indications.publish_release"),
    }
    return render(request, "indications/releases.html", context)


def _aware(text: str):
    """The time the page was shown (it only marks changes made since); anything else is ignored."""
    try:
        moment = parse_datetime(text)
    except ValueError:
        return None
    return moment if moment is not None and timezone.is_aware(moment) else None


@never_cache
@login_required
@permission_required("indications.publish_release", raise_exception=True)
@require_http_methods(["GET", "POST"])
def publish(request):
    """The reviewer's page: every changed field with before and after, who and when, the checks and
    the labelled limits; approve (for a colleague's changes) or publish the draft exactly as shown."""
    refused: list[str] = []
    summary = request.POST.get("change_summary", "")
    reviewed_at = None
    if request.method == "POST":
        reviewed_at = _aware(request.POST.get("reviewed_at", ""))
        reviewed_hash = request.POST.get("draft_hash", "")
        try:
            if "approve" in request.POST:
                approve_draft(user=request.user, reviewed_hash=reviewed_hash)
                messages.success(
                    request, "You approved the draft as shown. Another reviewer may now publish it."
                )
                return redirect(reverse("indications:publish"))
            release = publish_release(user=request.user, change_summary=summary, reviewed_hash=reviewed_hash)
        except PublishRefused as error:
            refused = error.problems
        else:
            messages.success(request, f"Published release {release.version}. Clinicians now see it.")
            return redirect(reverse("indications:releases"))
    review = review_draft()
    context = {
        **_review_context(review),
        "refused": refused,
        "change_summary": summary,
        "now": timezone.now().isoformat(),
        "changed_since": {
            id(c) for c in review.changes if reviewed_at and c.changed_at and c.changed_at > reviewed_at
        },
        "uncleared": {id(c) for c in review.uncleared_for(request.user)}
        if settings.CATALOGUE_TWO_PERSON_RULE
        else set(),
    }
    return render(request, "indications/publish.html", context, status=400 if refused else 200)


@require_GET
def what_changed(request):
    """For clinicians: each release with the reviewer's summary and the clinical changes it made
    (a release whose signature does not verify is named, its contents not shown)."""
    releases = list(
        CatalogueRelease.objects.defer("snapshot", "editorial_state")
        .select_related("published_by")
        .order_by("-number")[:52]
    )
    for release in releases:
        release.genuine = release_is_genuine(
            {name: getattr(release, name) for name in (*SIGNED_FIELDS, "signature")}
        )
    return render(request, "indications/what_changed.html", {"releases": releases})


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
