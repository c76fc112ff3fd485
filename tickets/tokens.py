"""Secrets in requester links: random, stored as a SHA-256 digest, compared in constant time."""

import hashlib
import hmac
import secrets

# Unambiguous letters and digits (no 0/O, 1/I/L, U) for references people read over the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_token() -> tuple[str, str]:
    """A fresh (raw, digest) pair. Only the digest is stored."""
    raw = secrets.token_urlsafe(32)
    return raw, digest(raw)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def matches(raw: str | None, stored_digest: str) -> bool:
    if not raw or not stored_digest:
        return False
    return hmac.compare_digest(digest(raw), stored_digest)


def new_reference() -> str:
    """Like ``SR-7K3Q-9XMD``: 8 random symbols of 30, about 6.6e11 values, no sequence to guess."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"SR-{chars[:4]}-{chars[4:]}"


def new_dns_challenge() -> str:
    """The value a requester publishes in DNS to prove the domain: random, one per request."""
    return "escalation-portal-proof=" + secrets.token_urlsafe(24)
