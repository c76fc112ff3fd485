"""Personal data of closed requests is purged after the retention period; a request can be exported."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client

from audit.models import AuditEvent
from audit.verify import audit_chain_verify
from notifications.models import OutboxMessage
from portal.clock import travel
from tests import factories
from tests.conftest import actor, staff_client
from tests.helpers import submit
from tickets import services
from tickets.models import Evidence, Message, ServiceRequest
from tickets.services.purge import PURGED, keyed_hash


def _closed_request(client, agent):
    tenant = factories.TenantFactory()
    assert submit(client, tenant).status_code == 302
    sr = ServiceRequest.objects.get()
    services.service_request_reject(service_request=sr, actor=actor(agent), reason="Could not verify.")
    Message.objects.create(service_request=sr, kind="public", body="My ID number is 123456789.", from_requester=True)
    return ServiceRequest.objects.get(pk=sr.pk)


def test_nothing_is_purged_before_the_retention_period(client, agent, settings):
    sr = _closed_request(client, agent)
    with travel(settings.PERSONAL_DATA_RETENTION - timedelta(hours=1)):
        assert services.service_requests_purge_expired() == []
    sr.refresh_from_db()
    assert sr.requester_email.startswith("claire@") and sr.personal_data_purged_at is None


def test_after_the_retention_period_files_go_and_fields_are_blanked_or_hashed(
    client, agent, settings, django_capture_on_commit_callbacks
):
    sr = _closed_request(client, agent)
    email = sr.requester_email
    evidence = Evidence.objects.get(service_request=sr)
    stored_name, storage = evidence.file.name, evidence.file.storage
    assert storage.exists(stored_name)

    with travel(settings.PERSONAL_DATA_RETENTION + timedelta(hours=1)), django_capture_on_commit_callbacks(execute=True):
        [report] = services.service_requests_purge_expired()

    assert report.reference == sr.reference and report.files == 1 and report.messages == 1
    sr.refresh_from_db()
    assert sr.personal_data_purged_at is not None
    assert sr.requester_name == "" and sr.reason == "" and sr.company_phone == "" and sr.submitted_ip is None
    assert sr.requester_email == keyed_hash(email) and email not in sr.requester_email
    assert not storage.exists(stored_name), "the file is deleted from storage"
    evidence.refresh_from_db()
    assert evidence.original_name != "id-card.pdf" and evidence.sha256, "the list keeps hashes, not names"
    assert not evidence.file
    opened = staff_client(Client(), factories.supervisor()).get(f"/admin/tickets/servicerequest/{sr.pk}/evidence/{evidence.pk}/")
    assert opened.status_code == 404 and not AuditEvent.objects.filter(action="evidence.viewed").exists()
    assert set(Message.objects.filter(service_request=sr).values_list("body", flat=True)) == {PURGED}
    assert not OutboxMessage.objects.filter(target_id=str(sr.pk), target_type="tickets.servicerequest").exists()
    event = AuditEvent.objects.get(action="request.purged")
    assert email not in json.dumps(event.after) and event.after["hashes"]["requester_email"] == keyed_hash(email)
    assert audit_chain_verify().ok, "the audit trail remains, intact"

    with travel(settings.PERSONAL_DATA_RETENTION + timedelta(days=2)):
        assert services.service_requests_purge_expired() == [], "purged once"


def test_an_open_request_is_never_purged(client, db, settings):
    assert submit(client, factories.TenantFactory()).status_code == 302
    with travel(settings.PERSONAL_DATA_RETENTION * 3):
        assert services.service_requests_purge_expired() == []


def test_the_command_has_a_dry_run_that_changes_nothing(client, agent, settings, capsys):
    sr = _closed_request(client, agent)
    with travel(settings.PERSONAL_DATA_RETENTION + timedelta(hours=1)):
        call_command("purge_expired_personal_data", "--dry-run")
        assert f"{sr.reference}: would purge" in capsys.readouterr().out
        sr.refresh_from_db()
        assert sr.personal_data_purged_at is None and sr.requester_name
        call_command("purge_expired_personal_data")
        assert f"{sr.reference}: purged" in capsys.readouterr().out
    sr.refresh_from_db()
    assert sr.personal_data_purged_at is not None


def test_a_supervisor_exports_one_request_for_a_data_access_request(client, agent, supervisor):
    sr = _closed_request(client, agent)
    browser = staff_client(Client(), supervisor)
    response = browser.post(f"/admin/tickets/servicerequest/{sr.pk}/export/")
    assert response.status_code == 200 and response["Content-Disposition"] == f'attachment; filename="{sr.reference}.json"'
    data = json.loads(response.content)
    assert data["request"]["requester_email"] == sr.requester_email
    assert [t["to"] for t in data["timeline"]] == ["rejected"]
    assert data["messages"][0]["body"] == "My ID number is 123456789."
    assert data["evidence"][0]["name"] == "id-card.pdf" and "file" not in data["evidence"][0]
    assert AuditEvent.objects.filter(action="request.exported", actor=supervisor).count() == 1
    assert 'action="/admin/tickets/servicerequest/' in browser.get(f"/admin/tickets/servicerequest/{sr.pk}/change/").content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_agent_cannot_export(client, agent, method):
    sr = _closed_request(client, agent)
    response = getattr(staff_client(Client(), agent), method)(f"/admin/tickets/servicerequest/{sr.pk}/export/")
    assert response.status_code == (404 if method == "get" else 403)
    assert not AuditEvent.objects.filter(action="request.exported").exists()
