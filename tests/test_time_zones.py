"""Times are stored in UTC and shown in the reader's zone: the requester's browser zone, or the one staff chose."""

from datetime import UTC, datetime

import pytest

from tests import factories
from tests.conftest import emails_to, staff_client
from tests.helpers import open_link, submit
from tickets.models import ServiceRequest

FILED = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # 13:00 in Paris, 07:00 in New York


def test_the_browser_zone_is_kept_with_the_request_and_used_on_its_tracking_page(client, db):
    assert submit(client, time_zone="Europe/Paris").status_code == 302
    sr = ServiceRequest.objects.get()
    assert sr.time_zone == "Europe/Paris"
    ServiceRequest.objects.filter(pk=sr.pk).update(created_at=FILED, status="new")
    sr, raw = factories.tracked_request(sr)
    html = open_link(client, factories.tracking_path(sr, raw)).content.decode()
    assert "Times are shown in Europe/Paris." in html
    assert "1 p.m." in html.split("What you filed")[1], "12:00 UTC is 1 p.m. in Paris"


@pytest.mark.parametrize("sent", ["", "Mars/Olympus_Mons", "<script>"])
def test_without_a_known_browser_zone_the_tracking_page_shows_utc(client, db, sent):
    assert submit(client, time_zone=sent).status_code == 302
    sr = ServiceRequest.objects.get()
    assert sr.time_zone == ""
    ServiceRequest.objects.filter(pk=sr.pk).update(created_at=FILED, status="new")
    sr, raw = factories.tracked_request(sr)
    html = open_link(client, factories.tracking_path(sr, raw)).content.decode()
    assert "Times are shown in UTC." in html and "noon" in html.split("What you filed")[1]


def test_the_form_asks_the_browser_for_its_zone_with_a_script_of_our_own(client, db):
    html = client.get("/requests/new/admin_left/").content.decode()
    assert 'type="hidden" name="time_zone"' in html and "data-browser-time-zone" in html
    assert '<script src="/static/portal/timezone.js" defer></script>' in html


def test_staff_read_times_in_the_zone_they_chose(client, db):
    agent = factories.agent(email="agent@support.example", time_zone="America/New_York")
    sr = factories.ServiceRequestFactory(status="new")
    ServiceRequest.objects.filter(pk=sr.pk).update(created_at=FILED)
    page = staff_client(client, agent).get(f"/admin/tickets/servicerequest/{sr.pk}/change/").content.decode()
    assert "7 a.m." in page.split("sr-panel")[1][:2000], "12:00 UTC is 7 a.m. in New York"


def test_staff_emails_go_in_each_staff_members_language(client, db, deliver):
    french = factories.agent(email="agnes@support.example", preferred_language="fr")
    english = factories.agent(email="andy@support.example", preferred_language="en")
    sr, confirm = factories.confirmable_request()
    client.post(f"/requests/{sr.reference}/confirm/", {"token": confirm})
    deliver()
    (to_agnes,) = emails_to(french.email)
    (to_andy,) = emails_to(english.email)
    assert to_agnes.subject != to_andy.subject
    assert "demande" in to_agnes.subject.lower() and "request" in to_andy.subject.lower()


def test_the_queue_shows_each_deadline_in_the_agents_zone(client, db):
    agent = factories.agent(email="agent@support.example", time_zone="America/New_York")
    factories.ServiceRequestFactory(status="new", sla_due_at=FILED, reference="SR-ZONE-0001")
    row = staff_client(client, agent).get("/admin/tickets/servicerequest/").content.decode().split("SR-ZONE-0001")[1]
    assert "07:00" in row.split("</tr>")[0], "a deadline of 12:00 UTC is 07:00 in New York"
