"""Password rules after NIST SP 800-63B rev. 4: no composition rules, long passphrases welcome.

AUTH_PASSWORD_VALIDATORS checks, in order: similarity to the user's name and email (Django), the
lengths below, a short string repeated (below), and Django's list of 20,000 common passwords. There is
no check against breach corpora (no Have I Been Pwned look-up): the help text must not promise one.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .policy import MIN_LENGTH_SINGLE_FACTOR, minimum_password_length

MAX_LENGTH = 256  # far above the 64 characters NIST asks us to allow


def _repeats_itself(password: str) -> bool:
    """A shorter string said again ("passwordpassword", "abcabcabcabcabc"): as guessable as the short one."""
    squeezed = "".join(password.lower().split())
    n = len(squeezed)
    return any(n % size == 0 and squeezed == squeezed[:size] * (n // size) for size in range(1, n // 2 + 1))


class NistLengthValidator:
    """At least 15 characters for password-only accounts, 12 with a second factor; at most 256."""

    def validate(self, password, user=None):
        minimum = minimum_password_length(user) if user is not None else MIN_LENGTH_SINGLE_FACTOR
        if len(password) < minimum:
            raise ValidationError(
                ngettext(
                    "This password is too short: use at least %(min)d character. A few unrelated words work well.",
                    "This password is too short: use at least %(min)d characters. A few unrelated words work well.",
                    minimum,
                ),
                code="password_too_short",
                params={"min": minimum},
            )
        if len(password) > MAX_LENGTH:
            raise ValidationError(
                _("This password is longer than %(max)d characters."), code="password_too_long", params={"max": MAX_LENGTH}
            )

    def get_help_text(self):
        return _(
            "Use at least 15 characters (12 if you sign in with a second factor). Spaces and any "
            "characters are allowed; there are no other rules, but common passwords, a word said twice "
            "(“passwordpassword”) and passwords close to your name or email are refused."
        )


class RepeatedPatternValidator:
    """Refuse a short string said again ("passwordpassword"): Django's common-password list misses these."""

    def validate(self, password, user=None):
        if _repeats_itself(password):
            raise ValidationError(_("This password is too common."), code="password_too_common")

    def get_help_text(self):
        return ""
