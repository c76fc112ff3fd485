"""Who must use a second factor, and how long passwords must be (NIST SP 800-63B rev. 4)."""

from typing import Any

from django_otp import user_has_device

from .models import Membership

ADMIN_ROLES = (Membership.Role.GLOBAL_ADMIN, Membership.Role.USER_ADMIN)
MIN_LENGTH_SINGLE_FACTOR = 15
MIN_LENGTH_WITH_SECOND_FACTOR = 12


def requires_second_factor(user: Any) -> bool:
    """Staff, global admins and user admins must sign in with a second factor."""
    if user is None or not getattr(user, "pk", None):
        return False
    return bool(user.is_staff or Membership.objects.filter(user=user, role__in=ADMIN_ROLES).exists())


def uses_second_factor(user: Any) -> bool:
    return requires_second_factor(user) or bool(getattr(user, "pk", None) and user_has_device(user))


def minimum_password_length(user: Any) -> int:
    return MIN_LENGTH_WITH_SECOND_FACTOR if uses_second_factor(user) else MIN_LENGTH_SINGLE_FACTOR
