"""The rules' vocabulary: status groups, which checks prove what, which checks depend on what.

Plain data, imported by the state machine, services, selectors and admin alike; it imports only the
models and settings, so that nothing needs to import a service or selector sideways to know a rule.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import CheckKind, ServiceRequest, Status


class Role(models.TextChoices):
    """Who may move a request: the state machine's roles."""

    REQUESTER = "requester", _("Requester")
    AGENT = "agent", _("Support agent")
    SUPERVISOR = "supervisor", _("Support supervisor")
    # Someone told of the request (a tenant's admin, the former admin, the proposed user), by their link.
    OBJECTOR = "objector", _("Someone told of the request")
    SYSTEM = "system", _("The portal itself")


STAFF_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR})

CLOSED = frozenset({Status.ELEVATED, Status.REJECTED, Status.CANCELLED, Status.EXPIRED})
OPEN = frozenset(set(Status) - CLOSED)
# Statuses in which support owes the requester an answer (the SLA clock runs).
SLA_RUNNING = frozenset({Status.NEW, Status.IN_REVIEW, Status.VERIFIED, Status.ELEVATION_PROPOSED, Status.DISPUTED})
# Statuses in which checks may be recorded.
CHECKABLE = frozenset({Status.NEW, Status.IN_REVIEW, Status.WAITING_ON_REQUESTER, Status.VERIFIED})
# Confirmed and open: the people told of the request may object, and it counts as concurrent.
CONTESTABLE = frozenset(OPEN - {Status.AWAITING_EMAIL_CONFIRMATION, Status.DISPUTED})
IN_QUEUE = frozenset(OPEN - {Status.AWAITING_EMAIL_CONFIRMATION})
# After verification and before approval: what the requester sends now changes what is being reviewed.
REVIEW_SETTLED = frozenset({Status.VERIFIED, Status.ELEVATION_PROPOSED})

# Always required, whatever the proof: the confirmed work email (never a channel of proof by itself)
# and the former admin confirmed gone (the reason for the whole request).
ALWAYS_REQUIRED = (CheckKind.EMAIL_CONFIRMED, CheckKind.FORMER_ADMIN_GONE)

# Checks that rest on what the requester sent or on who is proposed: voided when that changes.
DEPENDS_ON_REQUESTER = (CheckKind.IDENTITY_EVIDENCE, CheckKind.COMPANY_DETAILS, CheckKind.FORMER_ADMIN_GONE)
# Checks made against one tenant's record: voided when another tenant is matched.
DEPENDS_ON_TENANT = (CheckKind.CALLBACK_ON_RECORD, CheckKind.COMPANY_DETAILS, CheckKind.DOMAIN_DNS)
# Recorded by the portal itself, never by an agent's form.
AUTOMATIC = (CheckKind.EMAIL_CONFIRMED, CheckKind.DOMAIN_DNS)


def proof_combinations() -> list[frozenset[str]]:
    """The sets of passed checks that each make a proof from two independent channels (a setting)."""
    return [frozenset(combo) for combo in settings.ELEVATION_PROOF_COMBINATIONS]


def shown_checks() -> list[str]:
    """Every check that counts for something, in the order an agent reads them."""
    kinds: list[str] = list(ALWAYS_REQUIRED)
    for combo in proof_combinations():
        kinds += [k for k in CheckKind.values if k in combo and k not in kinds]
    return kinds


def waiting_period(service_request: ServiceRequest) -> timedelta:
    """The waiting period after approval: doubled when a supervisor overrode the active-admin block."""
    factor = 2 if service_request.admin_block_override_at else 1
    return settings.ELEVATION_WAITING_PERIOD * factor


def waiting_minimum(service_request: ServiceRequest) -> timedelta:
    """The shortest a supervisor may make the waiting period (doubled with an override, like the period)."""
    factor = 2 if service_request.admin_block_override_at else 1
    return settings.ELEVATION_WAITING_MINIMUM * factor
