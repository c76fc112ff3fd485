"""Writing audit events. Callers run inside the transaction of the change they record."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.clock import now

from .actions import AuditAction
from .models import AuditEvent


@dataclass(frozen=True)
class RequestMeta:
    """Where an action came from: IP address and user agent of the HTTP request, if any."""

    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request) -> "RequestMeta":
        if request is None:
            return cls()
        raw = request.META.get(settings.CLIENT_IP_META_KEY) or request.META.get("REMOTE_ADDR") or ""
        return cls(
            ip_address=raw.split(",")[0].strip() or None,
            user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:300],
        )


class ActorKind(models.TextChoices):
    """Who acts, as the audit log and the workflow tell them apart."""

    STAFF = "staff", _("support staff")
    USER = "user", _("a signed-in user")
    REQUESTER = "requester", _("the requester")
    OBJECTOR = "objector", _("someone told of the request")
    ANONYMOUS = "anonymous", _("someone not signed in")
    SYSTEM = "system", _("the portal itself")


@dataclass(frozen=True)
class Actor:
    """Who performs an action: a signed-in user (support staff, a tenant's user), a requester, someone
    told of a request (through their objection link), someone not signed in, or the system."""

    kind: ActorKind
    user: object = None
    label: str = ""
    meta: RequestMeta = field(default_factory=RequestMeta)

    @classmethod
    def system(cls) -> "Actor":
        return cls(kind=ActorKind.SYSTEM, label="system")

    def describe(self) -> str:
        if self.user is not None:
            return self.user.email
        return self.label or self.kind


def audit_event_record(
    *, actor: Actor, action: AuditAction | str, target: models.Model, tenant=None, before=None, after=None
) -> AuditEvent:
    """Append one audit event for ``target``. Must be called inside the change's transaction.

    ``action`` must be in the registry (``audit.actions.AuditAction``): a ValueError otherwise.
    """
    action = AuditAction(action)
    meta = actor.meta or RequestMeta()
    return AuditEvent.objects.create(
        created_at=now(),
        actor=actor.user,
        actor_label=actor.describe(),
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        tenant=tenant,
        before=before or {},
        after=after or {},
        ip_address=meta.ip_address,
        user_agent=meta.user_agent,
    )
