"""Who works the queue: support agents and supervisors."""

from typing import Any

from django.db.models import QuerySet

from accounts.models import User

from ..policy import Role

AGENTS_GROUP = "Support agents"
SUPERVISORS_GROUP = "Support supervisors"


def support_agents() -> QuerySet[User]:
    """Active staff who work the queue (agents and supervisors)."""
    return User.objects.filter(is_active=True, is_staff=True, groups__name__in=[AGENTS_GROUP, SUPERVISORS_GROUP]).distinct()


def support_supervisors() -> QuerySet[User]:
    return User.objects.filter(is_active=True, is_staff=True, groups__name=SUPERVISORS_GROUP).distinct()


def staff_role(user: Any) -> Role | None:
    """``Role.SUPERVISOR``, ``Role.AGENT`` or None for ``user`` (signed in or anonymous, or None)."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return None
    if user.has_perm("tickets.approve_elevation"):
        return Role.SUPERVISOR
    if user.has_perm("tickets.work_servicerequest"):
        return Role.AGENT
    return None
