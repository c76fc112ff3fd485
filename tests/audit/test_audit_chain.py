"""The audit log nobody can quietly rewrite: append-only in PostgreSQL, hash-chained, checked."""

import threading

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit.chain import GENESIS, link_hash
from audit.models import AuditChainHead, AuditEvent
from audit.services import Actor, audit_event_record
from audit.verify import audit_chain_verify
from tests import factories
from tickets import services


def _events(n=5):
    tenant = factories.TenantFactory()
    for i in range(n):
        audit_event_record(actor=Actor.system(), action="tenant.changed_by_support", target=tenant, tenant=tenant,
                           after={"n": i, "note": "é, ü & <b>", "list": (1, 2)}, before={"n": i - 1})  # fmt: skip
    return list(AuditEvent.objects.order_by("id"))


def _raw(sql, params=()):
    """What someone with the database's superuser password could do: switch triggers off, and write."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = origin")


def test_each_event_follows_from_the_one_before(db):
    events = _events()
    previous = GENESIS
    for event in events:
        assert event.chain_hash == link_hash(previous, AuditEvent.objects.filter(pk=event.pk).values().get())
        previous = event.chain_hash
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_event_id, head.last_hash) == (events[-1].pk, events[-1].chain_hash)
    assert audit_chain_verify().ok


@pytest.mark.parametrize("change", ["update", "delete", "queryset update", "queryset delete"])
def test_the_database_refuses_to_change_or_delete_an_event(db, change):
    event = _events(1)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        if change == "update":
            event.after = {"n": 99}
            event.save()
        elif change == "delete":
            event.delete()
        elif change == "queryset update":
            AuditEvent.objects.filter(pk=event.pk).update(actor_label="someone else")
        else:
            AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).after == event.after or change == "update"
    assert audit_chain_verify().ok


def test_a_person_named_in_the_log_cannot_be_deleted(db):
    user = factories.UserFactory()
    audit_event_record(actor=Actor(kind="user", user=user), action="signin.succeeded", target=user)
    with pytest.raises(Exception, match="protected|append-only"), transaction.atomic():
        user.delete()


def test_an_edited_event_is_named(db):
    events = _events()
    _raw("UPDATE audit_auditevent SET after = %s WHERE id = %s", ['{"n": 42}', events[2].pk])
    verdict = audit_chain_verify()
    assert not verdict.ok and verdict.first_broken_id == events[2].pk and verdict.checked == 2


def test_a_removed_event_shows_at_the_next_one(db):
    events = _events()
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    verdict = audit_chain_verify()
    assert not verdict.ok and verdict.first_broken_id == events[2].pk


def test_an_inserted_event_is_named(db):
    events = _events()
    forged = AuditEvent.objects.filter(pk=events[2].pk).values().get()
    forged.pop("id")
    forged["after"] = {"forged": True}
    AuditEvent.objects.create(**forged)  # an insert needs no bypass: only the chain shows it
    verdict = audit_chain_verify()
    assert not verdict.ok and verdict.first_broken_id > events[-1].pk


def test_a_cut_off_end_shows_by_the_head_and_by_the_published_copy(db):
    events = _events()
    published = events[-1].chain_hash
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk])
    verdict = audit_chain_verify()
    assert not verdict.ok and "cut off the end" in verdict.reason

    # Whoever cut it also rewrites the head to match: the copy published yesterday still shows it.
    AuditChainHead.objects.filter(pk=1).update(last_event_id=events[-2].pk, last_hash=events[-2].chain_hash)
    assert audit_chain_verify().ok, "without the published copy, a careful cut is invisible"
    verdict = audit_chain_verify(expect_head=published)
    assert not verdict.ok and published in verdict.reason


def test_the_command_names_the_first_broken_event(db, capsys):
    events = _events()
    call_command("verify_audit_log")
    assert "intact" in capsys.readouterr().out
    _raw("UPDATE audit_auditevent SET actor_label = 'nobody' WHERE id = %s", [events[3].pk])
    with pytest.raises(CommandError, match=f"broken at event {events[3].pk}"):
        call_command("verify_audit_log", "--chunk-size", "2")


def test_concurrent_writers_keep_one_chain(transactional_db):
    tenant = factories.TenantFactory()
    barrier = threading.Barrier(4, timeout=10)

    def write(n):
        try:
            barrier.wait()
            for i in range(10):
                with transaction.atomic():
                    audit_event_record(actor=Actor.system(), action="tenant.changed_by_support", target=tenant,
                                       after={"writer": n, "i": i})  # fmt: skip
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert AuditEvent.objects.filter(action="tenant.changed_by_support").count() == 40
    assert audit_chain_verify().ok


def test_the_daily_jobs_publish_the_head_and_alert_on_a_break(db, deliver):
    supervisor = factories.supervisor()
    events = _events()
    head = services.audit_head_publish()
    assert head == events[-1].chain_hash
    assert services.audit_log_check().ok
    deliver()
    [published] = [m for m in mail.outbox if supervisor.email in m.to]
    assert head in published.body and "verify_audit_log --expect-head" in published.body

    _raw("UPDATE audit_auditevent SET after = '{}' WHERE id = %s", [events[0].pk])
    assert not services.audit_log_check().ok
    deliver()
    alert = [m for m in mail.outbox if supervisor.email in m.to][-1]
    assert "broken" in alert.subject and str(events[0].pk) in alert.body
