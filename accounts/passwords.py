"""Password rules after NIST SP 800-63B rev. 4: no composition rules, long passphrases welcome.

AUTH_PASSWORD_VALIDATORS checks, in order: similarity to the user's name and email (Django), the
lengths below, a short string repeated (below), Django's list of 20,000 common passwords, and zxcvbn's
estimate of how easy the password is to guess (below). There is no check against breach corpora (no
Have I Been Pwned look-up): the help text must not promise one.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from zxcvbn import zxcvbn

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


class StrengthValidator:
    """zxcvbn's estimate: refuse a password scored below ``MIN_SCORE`` (3 of 4: about 10^8 guesses or more).

    "123456789012345", "qwertyuiop12345", "Password1234567" or "P@ssw0rd12345678" are long enough and in
    no list, but a guesser's first tries. zxcvbn's own feedback is in English: the reason shown is ours,
    translated, chosen from the kind of pattern zxcvbn found (the longest one).
    """

    MIN_SCORE = 3
    ESTIMATED_LENGTH = 72  # zxcvbn refuses longer input; a guesser tries a passphrase's beginning first

    def validate(self, password, user=None):
        result = zxcvbn(password[: self.ESTIMATED_LENGTH], user_inputs=_user_words(user))
        if result["score"] >= self.MIN_SCORE:
            return
        raise ValidationError(
            _("This password is too easy to guess: %(reason)s A few unrelated words work well."),
            code="password_too_guessable",
            params={"reason": _reason(result["sequence"])},
        )

    def get_help_text(self):
        return _(
            "Passwords that are easy to guess (keyboard rows, sequences, dates, common words with symbols swapped in) are refused."
        )


def _user_words(user) -> list[str]:
    if user is None:
        return []
    words = [getattr(user, "full_name", ""), *getattr(user, "full_name", "").split()]
    for address in (getattr(user, "email", ""), getattr(user, "alternate_email", "")):
        if address:
            local, _at, domain = address.partition("@")
            words += [address, local, *domain.split(".")[:-1]]
    return [w for w in words if w]


def _reason(sequence) -> str:
    """Why, in the person's language, from the longest pattern zxcvbn found."""
    patterns = [m for m in sequence if m.get("pattern") != "bruteforce"]
    if not patterns:
        return gettext("it is too short for the characters it uses.")
    match = max(patterns, key=lambda m: len(m.get("token", "")))
    pattern = match.get("pattern")
    if pattern == "dictionary" and match.get("dictionary_name") == "user_inputs":
        return gettext("it contains your name or email address.")
    if pattern == "dictionary" and match.get("l33t"):
        return gettext("common words with letters swapped for symbols (like “P@ssw0rd”) are among the first guesses.")
    if pattern == "dictionary":
        return gettext("it is built on a common password or word, which guessers try first.")
    if pattern == "spatial":
        return gettext("rows of keys on a keyboard (like “qwerty”) are among the first guesses.")
    if pattern == "repeat":
        return gettext("repeated characters or words (like “aaa”) are among the first guesses.")
    if pattern == "sequence":
        return gettext("sequences (like “abcd” or “12345”) are among the first guesses.")
    if pattern in ("regex", "date"):
        return gettext("dates and years are among the first guesses.")
    return gettext("it is too predictable.")
