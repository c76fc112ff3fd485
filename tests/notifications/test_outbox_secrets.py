"""Secrets do not wait in the outbox: erased once sent or failed for good; sent rows are pruned."""

from datetime import timedelta

import pytest

from audit.services import Actor
from notifications.models import OutboxMessage
from notifications.services import outbox_deliver_message, outbox_message_retry, outbox_prune_sent
from portal.clock import now, travel
from portal.errors import DomainError
from tests import factories

from .test_smtp import _refused


def _with_secret(**fields):
    fields.setdefault("next_attempt_at", now())
    return OutboxMessage.objects.create(
        created_at=now(), template="reset_code", to_email="bob.home@example.net", context={"minutes": 5},
        secrets={"code": "123456"}, **fields,
    )  # fmt: skip


def test_a_sent_email_keeps_no_secret(db, deliver):
    message = _with_secret()
    deliver()
    message.refresh_from_db()
    assert message.status == "sent" and message.secrets == {}
    assert "123456" not in str(OutboxMessage.objects.filter(pk=message.pk).values().get())


def test_an_email_failed_for_good_keeps_no_secret_and_is_not_sent_again_without_it(db, settings):
    _refused(settings)
    message = _with_secret(attempts=settings.OUTBOX_MAX_ATTEMPTS - 1)
    with pytest.raises(OSError):
        outbox_deliver_message(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "failed" and message.secrets == {}
    assert "123456" not in str(OutboxMessage.objects.filter(pk=message.pk).values().get())

    with pytest.raises(DomainError, match="request a new one"):
        outbox_message_retry(message_id=message.pk, actor=Actor(kind="staff", user=factories.supervisor()))
    assert OutboxMessage.objects.get(pk=message.pk).status == "failed"


def test_sent_rows_are_pruned_after_the_retention_period_and_nothing_else(db, settings, deliver):
    old_sent = _with_secret()
    deliver()
    old_pending, failed = _with_secret(), _with_secret(status="failed")
    with travel(settings.OUTBOX_SENT_RETENTION - timedelta(days=1)):
        assert outbox_prune_sent() == 0
    with travel(settings.OUTBOX_SENT_RETENTION + timedelta(days=1)):
        recent = _with_secret()
        outbox_deliver_message(message_id=recent.pk)
        assert outbox_prune_sent(batch=1) == 1
    assert not OutboxMessage.objects.filter(pk=old_sent.pk).exists()
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {old_pending.pk, failed.pk, recent.pk}
