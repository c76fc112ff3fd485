"""Writes about users, roles, sign-in and second factors."""

from .roles import membership_set_role  # noqa: F401
from .second_factor import (  # noqa: F401
    backup_codes_generate,
    second_factor_verify,
    totp_enrolment_confirm,
    totp_enrolment_start,
)
from .signin import SignInError, signin_authenticate, signin_record_success, signin_second_factor_failed  # noqa: F401
from .users import user_create_inactive, user_set_initial_password  # noqa: F401
