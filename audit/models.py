from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .actions import AuditAction


class AuditEvent(models.Model):
    """An append-only record of a change that matters to security.

    PostgreSQL refuses UPDATE and DELETE on this table (a trigger); each event carries the hash chained
    from the one before it (``audit.chain``), so that an edit, a removal or a cut-off end shows.
    The people it names are never deleted (PROTECT): accounts are deactivated instead.
    """

    created_at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Who acted when there is no user account: "requester <email>", "system".
    actor_label = models.CharField(_("actor"), max_length=254, blank=True)
    # A code of audit.actions.AuditAction (kept out of the schema: a new action needs no migration).
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("target type"), max_length=64)
    target_id = models.CharField(_("target id"), max_length=64)
    tenant = models.ForeignKey(
        "accounts.Tenant",
        verbose_name=_("tenant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    # sha256(previous event's chain_hash ‖ canonical JSON of this event's content), hex.
    chain_hash = models.CharField(_("chain hash"), max_length=64, editable=False)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id", "created_at"])]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target_type}:{self.target_id}"

    def get_action_display(self) -> str:
        """The sentence people read for this action, in the current language."""
        return str(AuditAction(self.action).label) if self.action in AuditAction.values else self.action


class AuditChainHead(models.Model):
    """The chain's head: one row, locked by every writer so that concurrent events form one chain."""

    last_event_id = models.BigIntegerField(null=True, blank=True)
    last_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self):
        return f"head {self.last_event_id}: {self.last_hash}"
