"""Support watches the audit log: its head is copied out of the database each day, and the chain is
checked each day; supervisors hear of both (a break is an incident)."""

import json
import logging

from django.db import transaction

from audit.models import AuditChainHead
from audit.verify import ChainVerdict, audit_chain_verify
from notifications.services import outbox_enqueue
from portal.clock import now

from ..selectors import support_supervisors

logger = logging.getLogger("audit.chain")


def _tell_supervisors(template: str, context: dict[str, str]) -> None:
    for supervisor in support_supervisors():
        outbox_enqueue(template=template, to_email=supervisor.email, language=supervisor.preferred_language, context=context)


@transaction.atomic
def audit_head_publish() -> str:
    """Copy the chain's head out of the database (a log line, an email to supervisors), so that cutting
    events off the end, and rewriting the head to match, shows against the published copy. Returns it."""
    head = AuditChainHead.objects.filter(pk=1).first()
    context = {
        "head_hash": head.last_hash if head else "",
        "last_event": str(head.last_event_id if head else ""),
        "at": now().strftime("%Y-%m-%d %H:%M UTC"),
    }
    logger.info(json.dumps({"audit_chain_head": context}))
    _tell_supervisors("audit_head", context)
    return context["head_hash"]


@transaction.atomic
def audit_log_check() -> ChainVerdict:
    """Walk the whole chain (in chunks); on a break, log it and alert supervisors with the first broken event."""
    verdict = audit_chain_verify()
    if not verdict.ok:
        logger.error(verdict.describe())
        _tell_supervisors("audit_broken", {"description": verdict.describe(), "event": str(verdict.first_broken_id)})
    return verdict
