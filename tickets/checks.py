"""System checks: a proof policy that would let a takeover through refuses to start."""

from django.conf import settings
from django.core.checks import Error, register

from .models import CheckKind


@register()
def proof_policy_check(app_configs, **kwargs):
    """Each combination in ELEVATION_PROOF_COMBINATIONS names known checks, at least two channels, and never
    the work-email confirmation (which proves only a mailbox)."""
    errors = []
    combos = getattr(settings, "ELEVATION_PROOF_COMBINATIONS", None) or []
    if not combos:
        errors.append(Error("ELEVATION_PROOF_COMBINATIONS is empty: no request could ever be verified.", id="tickets.E001"))
    for combo in combos:
        unknown = set(combo) - set(CheckKind.values)
        if unknown:
            errors.append(Error(f"ELEVATION_PROOF_COMBINATIONS names unknown checks: {sorted(unknown)}.", id="tickets.E002"))
        if CheckKind.EMAIL_CONFIRMED in combo or CheckKind.FORMER_ADMIN_GONE in combo:
            errors.append(
                Error(
                    f"{list(combo)}: the confirmed email and the former admin gone are always required "
                    "and never count as a channel of proof.",
                    id="tickets.E003",
                )
            )
        if len(set(combo) - {CheckKind.EMAIL_CONFIRMED, CheckKind.FORMER_ADMIN_GONE}) < 2:
            errors.append(Error(f"{list(combo)}: a proof needs two independent channels.", id="tickets.E004"))
    if settings.ELEVATION_WAITING_MINIMUM > settings.ELEVATION_WAITING_PERIOD:
        errors.append(Error("ELEVATION_WAITING_MINIMUM is longer than ELEVATION_WAITING_PERIOD.", id="tickets.E005"))
    return errors
