"""Writing audit events. Callers run inside the transaction of the change they record."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from portal.clock import now

from .actions import AuditAction
from .models import AuditEvent

if TYPE_CHECKING:  # for annotations only: audit sits below the domain apps
    from accounts.models import Tenant


@dataclass(frozen=True)
class RequestMeta:
    """Where an action came from: IP address and user agent of the HTTP request, if any."""

    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest | None) -> "RequestMeta":
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
    # The signed-in AUTH_USER_MODEL instance, if any (audit sits below the accounts app, so: Any).
    user: Any = None
    label: str = ""
    meta: RequestMeta = field(default_factory=RequestMeta)

    @classmethod
    def system(cls) -> "Actor":
        return cls(kind=ActorKind.SYSTEM, label="system")

    def describe(self) -> str:
        if self.user is not None:
            return str(self.user.email)
        return self.label or str(self.kind)


def audit_event_record(
    *,
    actor: Actor,
    action: AuditAction | str,
    target: models.Model,
    tenant: "Tenant | None" = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
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
