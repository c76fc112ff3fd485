"""`make run` seeds the demo with `manage.py seed_demo` and prints tracking links that must open."""

import re
from io import StringIO

from django.conf import settings
from django.core.management import call_command

from tests import factories
from tests.helpers import open_link
from tickets.models import ServiceRequest


def test_the_printed_tracking_links_open_the_requests_confirmed_the_way_a_requester_does(client, db):
    factories.support_groups()  # made by a data migration, which a transactional test may have flushed
    out = StringIO()
    call_command("seed_demo", "--force", stdout=out)
    links = re.findall(re.escape(settings.SITE_URL) + r"(/requests/SR-[A-Z0-9-]+/\?token=\S+)", out.getvalue())
    assert len(links) == 3, out.getvalue()
    for path in links:
        reference = path.split("/")[2]
        page = open_link(client, path)
        assert page.status_code == 200 and reference in page.content.decode()
    confirmed = ServiceRequest.objects.exclude(status="awaiting_email_confirmation")
    assert confirmed.count() == 4, "three printed, one rejected"

    again = StringIO()
    call_command("seed_demo", "--force", stdout=again)
    assert "token=" not in again.getvalue() and ServiceRequest.objects.count() == 5, "a second run adds nothing"
