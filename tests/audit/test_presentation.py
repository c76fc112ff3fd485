"""Audit events in words: the one renderer behind the console's audit log and the agents' panel."""

from django.utils import translation

from audit.models import AuditEvent
from audit.presentation import present_events
from audit.services import Actor, ActorKind, audit_event_record
from tests import factories
from tests.conftest import staff_client


def test_a_status_change_reads_as_before_and_after_in_the_readers_language(db):
    sr = factories.ServiceRequestFactory()
    agent = factories.agent(email="agent@support.example")
    audit_event_record(
        actor=Actor(kind=ActorKind.STAFF, user=agent),
        action="status.changed",
        target=sr,
        before={"status": "new"},
        after={"status": "in_review"},
    )
    (row,) = present_events(AuditEvent.objects.all())
    assert (row.actor, row.target, row.details) == ("agent@support.example", sr.reference, ["Status: New → In review"])
    assert row.sentence == "Changed the request's status"
    with translation.override("fr"):
        (row,) = present_events(AuditEvent.objects.all())
    assert "New" not in row.details[0] and "→" in row.details[0]


def test_keys_that_name_a_reverse_relation_or_nothing_still_read(db):
    sr = factories.ServiceRequestFactory()
    after = {"reference": sr.reference, "evidence": 2, "odd_key": True}
    audit_event_record(actor=Actor.system(), action="request.filed", target=sr, after=after)
    (row,) = present_events(AuditEvent.objects.all())
    assert row.actor == "the portal"
    assert "Evidence files: 2" in row.details and "Odd key: yes" in row.details


def test_the_agents_panel_shows_no_raw_dicts(db, client):
    sr = factories.ServiceRequestFactory(status="new")
    agent = factories.agent(email="agent@support.example")
    audit_event_record(
        actor=Actor.system(), action="status.changed", target=sr, before={"status": "new"}, after={"status": "in_review"}
    )
    page = staff_client(client, agent).get(f"/admin/tickets/servicerequest/{sr.pk}/change/").content.decode()
    panel = page.split('id="audit"')[1].split("</table>")[0]
    assert "Status: New → In review" in panel and "{&#x27;status" not in panel and "{'status" not in panel
