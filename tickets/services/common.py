"""Checks every staff service starts with."""

from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant
from audit.services import Actor
from portal.errors import StrOrPromise

from ..models import ServiceRequest
from ..policy import CLOSED
from ..selectors import staff_role
from ..workflow import SUPERVISOR, DomainError


def staff_role_of(actor: Actor) -> str:
    role = staff_role(actor.user)
    if role is None:
        raise DomainError(_("Only support agents and supervisors can do this."))
    return role


def supervisor_of(actor: Actor, message: StrOrPromise) -> str:
    """The actor's role if they are a support supervisor; ``message`` otherwise."""
    if staff_role(actor.user) != SUPERVISOR:
        raise DomainError(message)
    return SUPERVISOR


def tenant_of(sr: ServiceRequest) -> Tenant:
    """The matched tenant, which every step from verification on needs."""
    if sr.tenant is None:
        raise DomainError(_("Match the tenant first."))
    return sr.tenant


def ensure_open(sr: ServiceRequest) -> None:
    if sr.status in CLOSED:
        raise DomainError(_("This request is closed; it can no longer be changed."))


def ensure_reason(text: str, message: StrOrPromise) -> str:
    if not (text or "").strip():
        raise DomainError(message)
    return text.strip()
