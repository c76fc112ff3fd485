"""Random values for service requests: references people read out, and DNS proof challenges.

The link-token primitives live in ``portal.tokens`` (accounts uses them too); they are re-exported
here so that tickets code keeps saying ``tokens.new_token()``.
"""

import secrets

from portal.tokens import digest, matches, new_token

__all__ = ["digest", "matches", "new_dns_challenge", "new_reference", "new_token"]

# Unambiguous letters and digits (no 0/O, 1/I/L, U) for references people read over the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference() -> str:
    """Like ``SR-7K3Q-9XMD``: 8 random symbols of 30, about 6.6e11 values, no sequence to guess."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"SR-{chars[:4]}-{chars[4:]}"


def new_dns_challenge() -> str:
    """The value a requester publishes in DNS to prove the domain: random, one per request."""
    return "escalation-portal-proof=" + secrets.token_urlsafe(24)
