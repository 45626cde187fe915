from django.contrib import admin

from indications.admin import ReadOnlyAdmin

from .models import CardFeedback


@admin.register(CardFeedback)
class CardFeedbackAdmin(ReadOnlyAdmin):
    """Feedback arrives from EHRs; here it can only be read (Auditors and Reviewers)."""

    list_display = ("received_at", "service", "outcome", "override_reason_display", "card")
    list_filter = ("service", "outcome")
    readonly_fields = (
        "service",
        "card",
        "outcome",
        "accepted_suggestions",
        "override_reason_system",
        "override_reason_code",
        "override_reason_display",
        "outcome_timestamp",
        "received_at",
        "issuer",
    )
