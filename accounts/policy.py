"""Who must use a second factor, and how long passwords must be (NIST SP 800-63B rev. 4)."""

from typing import Any

from django_otp import user_has_device

from .models import Membership

ADMIN_ROLES = (Membership.Role.GLOBAL_ADMIN, Membership.Role.USER_ADMIN)
MIN_LENGTH_SINGLE_FACTOR = 15
MIN_LENGTH_WITH_SECOND_FACTOR = 12
# NIST SP 800-63B-4 §3.2.2: at most 100 consecutive failed attempts on one account. At the ceiling,
# sign-in is refused from networks the account has not signed in from (accounts.services.signin).
SIGNIN_FAILURE_CEILING = 100


def requires_second_factor(user: Any) -> bool:
    """Staff, global admins and user admins must sign in with a second factor."""
    if user is None or not getattr(user, "pk", None):
        return False
    return bool(user.is_staff or Membership.objects.filter(user=user, role__in=ADMIN_ROLES).exists())


def uses_second_factor(user: Any) -> bool:
    return requires_second_factor(user) or bool(getattr(user, "pk", None) and user_has_device(user))


def minimum_password_length(user: Any) -> int:
    return MIN_LENGTH_WITH_SECOND_FACTOR if uses_second_factor(user) else MIN_LENGTH_SINGLE_FACTOR
