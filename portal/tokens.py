"""Secrets in links and emailed codes: random, stored as a SHA-256 digest, compared in constant time.

Shared by every app (password reset and account freeze links in accounts; confirmation, tracking
and objection links in tickets), so it lives in neither.
"""

import hashlib
import hmac
import secrets


def new_token() -> tuple[str, str]:
    """A fresh (raw, digest) pair: 256 random bits. Only the digest is stored; the raw token goes in the link."""
    raw = secrets.token_urlsafe(32)
    return raw, digest(raw)


def digest(raw: str) -> str:
    """The SHA-256 of ``raw``, as stored. A plain hash is enough: the token is random, not a password."""
    return hashlib.sha256(raw.encode()).hexdigest()


def matches(raw: str | None, stored_digest: str) -> bool:
    """Whether ``raw`` is the token behind ``stored_digest``, in constant time; an empty side never matches."""
    if not raw or not stored_digest:
        return False
    return hmac.compare_digest(digest(raw), stored_digest)
