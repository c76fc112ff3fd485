"""Writing audit events. Callers run inside the transaction of the change they record."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models, transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from portal.clock import now

from .actions import AuditAction
from .chain import GENESIS, link_hash
from .models import AuditChainHead, AuditEvent

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
    """Append one audit event for ``target``, chained to the one before. Must run in the change's transaction.

    ``action`` must be in the registry (``audit.actions.AuditAction``): a ValueError otherwise. The chain's
    head row is locked until the transaction ends, so that concurrent writers keep one chain in id order.
    """
    action = AuditAction(action)
    meta = actor.meta or RequestMeta()
    values: dict[str, Any] = {
        "created_at": now(),
        "actor_id": actor.user.pk if actor.user is not None else None,
        "actor_label": actor.describe()[:254],
        "action": str(action),
        "target_type": target._meta.label_lower,
        "target_id": str(target.pk),
        "tenant_id": tenant.pk if tenant is not None else None,
        "before": before or {},
        "after": after or {},
        "ip_address": meta.ip_address,
        "user_agent": meta.user_agent,
    }
    with transaction.atomic():
        head = _locked_head()
        chain_hash = link_hash(head.last_hash, values)
        event = AuditEvent.objects.create(**values, chain_hash=chain_hash)
        head.last_event_id, head.last_hash = event.pk, chain_hash
        head.save(update_fields=["last_event_id", "last_hash"])
    return event


def _locked_head() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:  # the first event ever (the migration makes this row; a flushed test database has none)
        AuditChainHead.objects.get_or_create(pk=1, defaults={"last_hash": GENESIS})
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head
