"""What the CDS Hooks service keeps: feedback on its cards and the token ids it has seen. Neither holds
patient data."""

from __future__ import annotations

from django.db import models


class CardFeedback(models.Model):
    """One feedback item an EHR sent about a card (CDS Hooks 2.0 §Feedback). The clinician's free-text
    comment is not kept: it may name the patient."""

    OUTCOMES = [("accepted", "Accepted"), ("overridden", "Overridden")]

    service = models.CharField(max_length=60)
    card = models.UUIDField("card uuid")
    outcome = models.CharField(max_length=12, choices=OUTCOMES)
    accepted_suggestions = models.JSONField(default=list, blank=True, help_text="The suggestion uuids.")
    override_reason_system = models.CharField(max_length=200, blank=True)
    override_reason_code = models.CharField(max_length=100, blank=True)
    override_reason_display = models.CharField(max_length=200, blank=True)
    outcome_timestamp = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    issuer = models.CharField(max_length=200, blank=True, help_text="The EHR that sent it (the JWT iss).")

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "card feedback"
        verbose_name_plural = "card feedback"

    def __str__(self) -> str:
        return f"{self.service}: {self.outcome} ({self.card})"


class UsedToken(models.Model):
    """A JWT id already accepted, kept until the token expires: a second call with it is a replay,
    refused in every process (the table is the shared store)."""

    issuer = models.CharField(max_length=200)
    jti = models.CharField(max_length=200)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "jti"], name="usedtoken_unique_jti")]

    def __str__(self) -> str:
        return f"{self.issuer} {self.jti}"
