"""Guessable passwords are refused, with a reason a person can read in their language (zxcvbn, score 3)."""

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.test import Client

from tests.factories import PASSWORD

from .signin_helpers import field_error, member, sign_in, text

SECURITY = "/account/security/"
GUESSABLE = {
    "123456789012345": "it is built on a common password or word",
    "qwertyuiop12345": "it is built on a common password or word",
    "Password1234567": "it is built on a common password or word",
    "P@ssw0rd12345678": "letters swapped for symbols",
    "aaaaaaaaaaaaaab": "repeated characters",
}


@pytest.mark.parametrize("password", GUESSABLE)
def test_a_long_but_guessable_password_is_refused_with_its_reason(db, password):
    user = member(email="ana@fabrikam.example", full_name="Ana Lima")
    with pytest.raises(ValidationError) as refused:
        password_validation.validate_password(password, user)
    assert any(m.startswith("This password is too easy to guess: ") and GUESSABLE[password] in m for m in refused.value.messages)


@pytest.mark.parametrize(
    "password", ["lantern orchard violet harbour", "correct-horse-battery-staple", "quiet harbour lantern meadow"]
)
def test_a_passphrase_passes(db, password):
    password_validation.validate_password(password, member())


def test_the_persons_own_name_and_address_count_against_the_password(db):
    user = member(email="gwendolyn.fairweather@fabrikam.example", full_name="Gwendolyn Fairweather")
    with pytest.raises(ValidationError) as refused:
        password_validation.validate_password("gwendolynfairweather", user)
    assert "too easy to guess" in " ".join(refused.value.messages)


def test_the_reason_is_shown_in_french_next_to_the_field(db):
    user = member(email="ana@fabrikam.example")
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    sign_in(client, user)
    data = {
        "action": "password",
        "password-current_password": "correct-horse-battery-staple",
        "password-new_password": "P@ssw0rd12345678",
    }
    response = client.post(SECURITY, data)
    assert response.status_code == 200
    error = field_error(response, "id_password-new_password")
    assert "Ce mot de passe est trop facile à deviner" in error and "« P@ssw0rd »" in error, error or text(response)[:3000]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
