"""The agents' queue in the OTP-protected admin."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from portal.clock import now, travel
from tests import factories
from tests.factories import PASSWORD

QUEUE = "/admin/tickets/servicerequest/"


def _requests(n, **kwargs):
    tenant = factories.TenantFactory()
    for _ in range(n):
        factories.ServiceRequestFactory(
            tenant_on_record=tenant, status="new", tenant=tenant, sla_due_at=now() + timedelta(hours=5), **kwargs
        )


def test_admin_sign_in_goes_through_the_portal_sign_in(client, agent):
    response = client.get("/admin/login/?next=/admin/tickets/servicerequest/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/tickets/servicerequest/"
    assert client.get(QUEUE)["Location"] == "/admin/login/?next=/admin/tickets/servicerequest/"


def test_admin_asks_for_an_otp_token(client, agent):
    response = client.post("/login/", {"email": agent.email, "password": PASSWORD})
    assert response["Location"] == "/login/verify/"
    assert client.post("/login/verify/", {"token": "000000"}).status_code == 200
    assert client.get(QUEUE).status_code == 302, "no token, no queue"


def test_agent_signs_in_with_password_and_a_real_totp_token(client, agent):
    device = agent.totpdevice_set.get()
    client.post("/login/?next=/admin/", {"email": agent.email, "password": PASSWORD, "next": "/admin/"})
    response = client.post("/login/verify/", {"token": str(totp(device.bin_key)).zfill(6)})
    assert response["Location"] == "/admin/"
    assert client.get(QUEUE).status_code == 200


def test_staff_sign_in_is_throttled_too(client, agent, monkeypatch):
    monkeypatch.setattr("accounts.services.signin.THROTTLE", ("5/d",))  # one window: the test cannot straddle two
    for _ in range(5):
        client.post("/login/", {"email": agent.email, "password": "not the password"})
    response = client.post("/login/", {"email": agent.email, "password": PASSWORD})
    assert response.status_code == 200 and "has to wait longer" in response.content.decode(), "the right password, throttled"
    agent.refresh_from_db()
    assert agent.failed_login_count == 6


def test_a_backup_token_works_once(client, agent):
    device = StaticDevice.objects.create(user=agent, name="backup", confirmed=True)
    StaticToken.objects.create(device=device, token="backup-token-1")
    client.post("/login/", {"email": agent.email, "password": PASSWORD})
    assert client.post("/login/verify/", {"token": "backup-token-1"}).status_code == 302
    client.logout()
    client.post("/login/", {"email": agent.email, "password": PASSWORD})
    assert client.post("/login/verify/", {"token": "backup-token-1"}).status_code == 200


def test_queue_query_count_does_not_grow_with_rows(agent_client):
    _requests(3)
    agent_client.get(QUEUE)  # the first page after sign-in records the session's times (once a minute at most)
    with CaptureQueriesContext(connection) as few:
        assert agent_client.get(QUEUE).status_code == 200
    _requests(30)
    with CaptureQueriesContext(connection) as many:
        response = agent_client.get(QUEUE)
    assert response.status_code == 200
    assert response.content.decode().count("SR-") >= 33
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_overdue_requests_are_highlighted_and_filtered(agent_client, agent):
    tenant = factories.TenantFactory()
    late = factories.ServiceRequestFactory(
        tenant_on_record=tenant, status="in_review", sla_due_at=now() - timedelta(hours=1), reference="SR-LATE-0001"
    )
    factories.ServiceRequestFactory(
        tenant_on_record=tenant, status="in_review", sla_due_at=now() + timedelta(hours=1), reference="SR-SOON-0001", assignee=agent
    )
    page = agent_client.get(QUEUE).content.decode()
    assert "sr-overdue" in page
    overdue = agent_client.get(QUEUE + "?overdue=yes").content.decode()
    assert late.reference in overdue and "SR-SOON-0001" not in overdue
    mine = agent_client.get(QUEUE + "?assigned=me").content.decode()
    assert "SR-SOON-0001" in mine and late.reference not in mine
    unassigned = agent_client.get(QUEUE + "?assigned=none").content.decode()
    assert late.reference in unassigned and "SR-SOON-0001" not in unassigned


def test_queue_search_by_email_domain_and_reference(agent_client):
    tenant = factories.TenantFactory(primary_domain="searchable.example")
    sr = factories.ServiceRequestFactory(tenant_on_record=tenant, status="new", reference="SR-FIND-0001")
    factories.ServiceRequestFactory(status="new", reference="SR-OTHR-0001")
    for q in ("searchable.example", "claire@searchable.example", "SR-FIND-0001", tenant.legal_name):
        page = agent_client.get(QUEUE, {"q": q}).content.decode()
        assert sr.reference in page and "SR-OTHR-0001" not in page, q


def test_request_page_highlights_mismatches(agent_client, agent):
    tenant = factories.TenantFactory(legal_name="Fabrikam SARL", phone_on_record="+33 1 70 00 00 01")
    sr = factories.ServiceRequestFactory(
        tenant_on_record=tenant,
        tenant=tenant,
        status="in_review",
        company_legal_name="Fabrikam Holdings",
        company_phone="+33 6 99 99 99 99",
    )
    page = agent_client.get(f"{QUEUE}{sr.pk}/change/").content.decode()
    rows = page.split('id="comparison"')[1].split("</table>")[0]
    legal_row = [r for r in rows.split("<tr") if "Fabrikam Holdings" in r][0]
    assert "sr-mismatch" in legal_row
    phone_row = [r for r in rows.split("<tr") if "+33 6 99 99 99 99" in r][0]
    assert "sr-mismatch" in phone_row
    assert "+33 1 70 00 00 01" in page.split("Call back on")[1][:200]


def test_staff_without_group_cannot_open_the_queue(client, db):
    from tests.conftest import staff_client

    nobody = factories.UserFactory(is_staff=True)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=nobody, name="x")
    staff_client(client, nobody)
    assert client.get(QUEUE).status_code == 403


def test_unconfirmed_requests_are_not_in_the_queue(agent_client):
    tenant = factories.TenantFactory()
    factories.ServiceRequestFactory(tenant_on_record=tenant, status="awaiting_email_confirmation", reference="SR-WAIT-0001")
    factories.ServiceRequestFactory(tenant_on_record=tenant, status="new", reference="SR-CONF-0001")
    page = agent_client.get(QUEUE).content.decode()
    assert "SR-CONF-0001" in page and "SR-WAIT-0001" not in page
    explicit = agent_client.get(QUEUE + "?status__exact=awaiting_email_confirmation").content.decode()
    assert "SR-WAIT-0001" in explicit


def test_a_request_page_with_a_junk_id_is_a_404(agent_client):
    # The request page refuses a non-numeric id itself (Django's admin would redirect to the index with a message).
    assert agent_client.get(QUEUE + "not-a-number/change/").status_code == 404
    assert agent_client.get(QUEUE + "999999/change/").status_code == 404


def test_staff_signed_in_without_a_factor_is_not_sent_round_in_circles(client, db):
    user = factories.UserFactory(is_staff=True)
    client.force_login(user)
    first = client.get("/admin/")
    second = client.get(first["Location"])
    assert second.status_code == 302 and second["Location"] == "/login/?next=/admin/"
    assert client.get(second["Location"]).status_code == 200, "the sign-in page shows, no loop"


def test_a_mismatch_is_said_in_words_not_only_in_colour(agent_client, agent):
    tenant = factories.TenantFactory(legal_name="Fabrikam SARL", phone_on_record="+33 1 70 00 00 01")
    sr = factories.ServiceRequestFactory(
        tenant_on_record=tenant, tenant=tenant, status="in_review", company_legal_name="Fabrikam Holdings"
    )
    page = agent_client.get(f"{QUEUE}{sr.pk}/change/").content.decode()
    rows = page.split('id="comparison"')[1].split("</table>")[0].split("<tr")
    assert "Differs" in [r for r in rows if "Fabrikam Holdings" in r][0]
    assert "Same" in [r for r in rows if "+33 1 70 00 00 01" in r][0]


def test_the_queue_hides_closed_requests_unless_asked(agent_client):
    shown = factories.ServiceRequestFactory(status="in_review", reference="SR-OPEN-0001")
    closed = {
        s: factories.ServiceRequestFactory(status=s, reference=f"SR-{s[:4].upper()}-0002")
        for s in ("rejected", "cancelled", "elevated")
    }
    page = agent_client.get(QUEUE).content.decode()
    assert shown.reference in page
    for sr in closed.values():
        assert sr.reference not in page
    rejected = agent_client.get(QUEUE, {"status__exact": "rejected"}).content.decode()
    assert closed["rejected"].reference in rejected and shown.reference not in rejected
    assert closed["elevated"].reference in agent_client.get(QUEUE, {"q": closed["elevated"].reference}).content.decode()


def test_the_admin_index_leads_straight_to_the_queue(agent_client):
    page = agent_client.get("/admin/").content.decode()
    assert f'href="{QUEUE}"' in page
    assert 'href="/admin/tickets/"' not in page


# --- the queue's cost does not grow with what it shows ----------------------------------------------------------


def _varied_requests(n, agent):
    """``n`` confirmed requests, each with its own tenant, country and half of them assigned: all the joins shown."""
    countries = ["FR", "DE", "GB", "US", "CI"]
    for i in range(n):
        tenant = factories.TenantFactory(primary_domain=f"varied{i}-{n}.example", country=countries[i % len(countries)])
        factories.ServiceRequestFactory(
            tenant_on_record=tenant,
            tenant=tenant,
            status="new",
            assignee=agent if i % 2 else None,
            sla_due_at=now() + timedelta(hours=i - n // 2),
        )


@pytest.mark.parametrize("query", ["", "?status__exact=new", "?overdue=yes", "?q=example", "?q=varied"])
def test_queue_runs_the_same_queries_for_5_rows_and_40(agent_client, agent, query):
    _varied_requests(5, agent)
    agent_client.get(QUEUE + query)  # the session and the permissions are warm, as on an agent's second page
    with CaptureQueriesContext(connection) as few:
        assert agent_client.get(QUEUE + query).status_code == 200
    _varied_requests(35, agent)
    with CaptureQueriesContext(connection) as many:
        response = agent_client.get(QUEUE + query)
    assert response.status_code == 200
    if query in ("", "?status__exact=new", "?q=example"):
        assert response.content.decode().count('class="field-reference"') == 40
    sql = [q["sql"] for q in many.captured_queries]
    assert len(many) == len(few), sql
    assert sum("COUNT(*)" in s for s in sql) == 1, "one count per page, not a second one of the whole table"


def test_a_second_page_soon_after_does_not_save_the_session(agent_client):
    _requests(2)
    agent_client.get(QUEUE)
    with CaptureQueriesContext(connection) as again:
        agent_client.get(QUEUE)
    assert not [q["sql"] for q in again.captured_queries if "UPDATE" in q["sql"] and "django_session" in q["sql"]]
    with travel(timedelta(minutes=2)), CaptureQueriesContext(connection) as later:
        agent_client.get(QUEUE)
    assert [q["sql"] for q in later.captured_queries if "UPDATE" in q["sql"] and "django_session" in q["sql"]], (
        "the last request's time is still recorded, once a minute at most"
    )


def test_queue_finds_a_request_by_its_reference_in_any_case_and_by_part_of_it(agent_client):
    tenant = factories.TenantFactory(primary_domain="parts.example", legal_name="Contoso Pharma")
    sr = factories.ServiceRequestFactory(tenant_on_record=tenant, status="in_review", reference="SR-7K3Q-9XMD")
    factories.ServiceRequestFactory(status="in_review", reference="SR-ABCD-EFGH")
    for q in ("SR-7K3Q-9XMD", "sr-7k3q-9xmd", " SR-7K3Q-9XMD ", "SR-7K3Q", "7K3Q-9XMD", "parts.example", "contoso", "claire@parts"):
        page = agent_client.get(QUEUE, {"q": q}).content.decode()
        assert sr.reference in page and "SR-ABCD-EFGH" not in page, q


def test_queue_shows_the_country_by_name_in_the_agents_language(agent_client):
    tenant = factories.TenantFactory(country="DE")
    factories.ServiceRequestFactory(tenant_on_record=tenant, status="new", reference="SR-LAND-0001")
    english = agent_client.get(QUEUE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<td class="field-country">Germany</td>' in english
    french = agent_client.get(QUEUE, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<td class="field-country">Allemagne</td>' in french


def test_the_queue_search_uses_its_trigram_indexes(db):
    """Each searched column's UPPER(...) LIKE is answered by its index (migration 0008), and the CAPTCHA store's
    clean-up by an index on its expiry (0009): with sequential scans off, the plans name them."""
    from django.contrib import admin

    from tickets.models import ServiceRequest

    model_admin = admin.site._registry[ServiceRequest]
    queryset, _ = model_admin.get_search_results(None, ServiceRequest.objects.all(), "fabrikam")
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        for index in ("sr_reference_trgm", "sr_company_trgm", "sr_domain_trgm", "sr_requester_trgm"):
            assert index in plan, plan
        cursor.execute("EXPLAIN DELETE FROM captcha_captchastore WHERE expiration <= now()")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "captcha_captchastore_expiration_idx" in plan, plan


def test_the_country_filter_is_one_labelled_drop_down_of_the_countries_requests_came_from(agent_client):
    for country in ("FR", "BE", "FR"):
        factories.ServiceRequestFactory(tenant_on_record=factories.TenantFactory(country=country), status="new")
    page = agent_client.get(QUEUE, {"status__exact": "new"}).content.decode()
    drop_down = page.split('id="country-filter"')[1].split("</select>")[0]
    assert re.findall(r'<option value="([A-Z]{2})"', drop_down) == ["BE", "FR"], "two options, by name, not 250 links"
    assert "Belgium" in drop_down and "Germany" not in drop_down
    assert not re.findall(r'href="\?[^"]*company_country=', page), "no link per country"
    assert '<label for="country-filter">' in page
    form = page.split('class="country-filter"')[1].split("</form>")[0]
    assert '<input type="hidden" name="status__exact" value="new">' in form, "the other filters stay as they are"
    chosen = agent_client.get(QUEUE, {"company_country": "BE"}).content.decode()
    assert chosen.count('class="field-reference"') == 1
    assert agent_client.get(QUEUE, {"company_country": "FR"}).content.decode().count('class="field-reference"') == 2
    assert '<option value="BE" selected>' in chosen


def test_the_country_filter_costs_no_scan_of_the_requests_on_each_page(agent_client):
    factories.ServiceRequestFactory(tenant_on_record=factories.TenantFactory(country="FR"), status="new")
    agent_client.get(QUEUE)
    with CaptureQueriesContext(connection) as queries:
        agent_client.get(QUEUE)
    assert not [q["sql"] for q in queries.captured_queries if "DISTINCT" in q["sql"]], "the countries come from the cache"
