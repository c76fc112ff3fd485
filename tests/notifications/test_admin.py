"""Failed emails in the admin: a supervisor sends them again, audited; an agent cannot."""

from audit.models import AuditEvent
from notifications.models import OutboxMessage
from portal.clock import now

CHANGELIST = "/admin/notifications/outboxmessage/"


def _message(status, **fields):
    return OutboxMessage.objects.create(
        created_at=now(),
        template="rejected",
        to_email="claire@fabrikam.example",
        context={"reference": "SR-ADMIN-0001", "requester_name": "Claire", "reason": "test"},
        status=status,
        attempts=30 if status == "failed" else 1,
        last_error="ConnectionRefusedError(111)",
        **fields,
    )


def test_a_supervisor_sends_failed_emails_again_and_it_is_audited(
    supervisor_client, supervisor, deliver, django_capture_on_commit_callbacks
):
    failed = _message("failed")
    sent = _message("sent", sent_at=now())
    page = supervisor_client.get(CHANGELIST + f"{failed.pk}/change/")
    assert f"&lt;outbox-{failed.pk}@localhost&gt;" in page.content.decode(), "the Message-ID shows"

    with django_capture_on_commit_callbacks(execute=False) as handed_off:
        response = supervisor_client.post(CHANGELIST, {"action": "send_again", "_selected_action": [failed.pk, sent.pk]}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "1 email will be sent again." in page and "Only an email that failed can be sent again." in page
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
    assert len(handed_off) == 1, "handed to the broker after commit"
    assert OutboxMessage.objects.get(pk=sent.pk).status == "sent"

    [event] = AuditEvent.objects.filter(action="outbox.retried")
    assert event.actor == supervisor and event.target_id == str(failed.pk) and event.target_type == "notifications.outboxmessage"
    assert (
        event.before["status"] == "failed" and event.before["attempts"] == 30 and event.after == {"status": "pending", "attempts": 0}
    )
    assert event.ip_address == "127.0.0.1"

    [email] = [m for m in deliver() if m.to == ["claire@fabrikam.example"]]
    assert email.extra_headers["Message-ID"] == f"<outbox-{failed.pk}@localhost>"


def test_an_agent_sees_the_emails_but_cannot_send_them_again(agent_client):
    failed = _message("failed")
    # Agents may not even view the outbox; supervisors can (tickets' group migrations).
    assert agent_client.get(CHANGELIST).status_code == 403
    response = agent_client.post(CHANGELIST, {"action": "send_again", "_selected_action": [failed.pk]})
    assert response.status_code == 403
    assert OutboxMessage.objects.get(pk=failed.pk).status == "failed"
    assert not AuditEvent.objects.filter(action="outbox.retried").exists()


def test_the_action_is_offered_to_supervisors_only(supervisor_client, supervisor):
    _message("failed")
    assert "send_again" in supervisor_client.get(CHANGELIST).content.decode()
    supervisor.groups.first().permissions.remove(*supervisor.groups.first().permissions.filter(codename="retry_outboxmessage"))
    supervisor.refresh_from_db()
    from django.test import Client

    from tests.conftest import staff_client

    assert "send_again" not in staff_client(Client(), supervisor).get(CHANGELIST).content.decode()
