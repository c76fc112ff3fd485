"""The proof policy is a setting; a setting that would let a mailbox alone through refuses to start."""

import pytest
from django.core.checks import run_checks


def _errors():
    return [e.id for e in run_checks() if e.id.startswith("tickets.")]


def test_the_default_policy_passes(settings):
    assert _errors() == []
    assert settings.ELEVATION_PROOF_COMBINATIONS == [
        ["callback_on_record", "domain_dns"],
        ["callback_on_record", "identity_evidence", "company_details"],
    ]


@pytest.mark.parametrize(
    "combo, error",
    [
        (["email_confirmed", "callback_on_record"], "tickets.E003"),
        (["callback_on_record"], "tickets.E004"),
        (["callback_on_record", "carrier_pigeon"], "tickets.E002"),
    ],
)
def test_a_weak_or_wrong_policy_refuses_to_start(settings, combo, error):
    settings.ELEVATION_PROOF_COMBINATIONS = [combo]
    assert error in _errors()
