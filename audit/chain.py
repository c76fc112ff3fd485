"""The audit log's hash chain: how one event's hash follows from the one before it.

Each event stores ``sha256(previous hash ‖ canonical JSON of its content)``; the first event follows
from ``GENESIS``. Changing, removing or inserting an event breaks the chain at that point; cutting off
the end leaves a head that no longer matches the copy published each day (see docs/security.md).
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.ipv6 import clean_ipv6_address

GENESIS = "0" * 64

# The content that is chained: every field but the hash itself.
FIELDS = (
    "created_at", "actor_id", "actor_label", "action", "target_type", "target_id", "tenant_id",
    "before", "after", "ip_address", "user_agent",
)  # fmt: skip


def _ip(value: str | None) -> str | None:
    if not value:
        return None
    return clean_ipv6_address(value) if ":" in value else value


def content(values: Mapping[str, Any]) -> dict[str, Any]:
    """The chained content of an event, as stored: from a ``values()`` row or the values about to be saved."""
    created_at = values["created_at"]
    return {
        **{field: values[field] for field in FIELDS},
        "created_at": created_at.isoformat() if isinstance(created_at, datetime) else created_at,
        "target_id": str(values["target_id"]),
        "ip_address": _ip(values["ip_address"]),
        # As JSON stores them: tuples become lists, and so on.
        "before": json.loads(json.dumps(values["before"] or {}, cls=DjangoJSONEncoder)),
        "after": json.loads(json.dumps(values["after"] or {}, cls=DjangoJSONEncoder)),
    }


def link_hash(previous: str, values: Mapping[str, Any]) -> str:
    canonical = json.dumps(content(values), sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)
    return hashlib.sha256(previous.encode() + canonical.encode()).hexdigest()
