from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """An email to send, written in the same transaction as the change that calls for it.

    Its life (notifications/services.py): ``pending`` → claimed (``sending``, one attempt counted) →
    ``sent``; a failed try goes back to ``pending`` until ``next_attempt_at``; ``failed`` after
    OUTBOX_MAX_ATTEMPTS tries, until a supervisor asks to send it again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    created_at = models.DateTimeField(_("created"), db_index=True)
    template = models.CharField(_("template"), max_length=64)
    to_email = models.EmailField(_("recipient"))
    language = models.CharField(_("language"), max_length=8, default="en")
    context = models.JSONField(_("context"), default=dict, blank=True)
    # Links carrying a secret (confirmation, tracking, set-password) live here and are erased once sent.
    secrets = models.JSONField(_("secrets"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    # When beat hands the row to a worker (again): its first hand-off is on commit; after a failed try,
    # the backoff; while claimed, the claim's expiry. Empty once sent or failed.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["target_type", "target_id"]),
            # Beat's question, "which rows are due?", reads only the rows still to send.
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_due_idx",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
        ]
        permissions = [("retry_outboxmessage", _("Can send a failed email again"))]

    def __str__(self):
        return f"{self.template} → {self.to_email} ({self.status})"
