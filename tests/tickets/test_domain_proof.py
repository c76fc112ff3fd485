"""Domain proof by DNS, against a real DNS server of the test's own on 127.0.0.1 (tests/dns_server.py).

The requester publishes the request's value as a TXT record at ``_escalation-portal.<domain>``; the portal
looks it up when asked (tracking page, admin) and every few minutes (beat).
"""

import re
import time
from datetime import timedelta

import pytest

from accounts.models import Membership, TenantDomain
from audit.models import AuditEvent
from portal.clock import now, travel
from tests import factories
from tests.conftest import actor, emails_to, link_in
from tests.helpers import open_link, submit
from tickets import selectors, services, tasks, tokens
from tickets.dns_proof import record_name
from tickets.models import CheckKind, CheckOutcome, ServiceRequest, Status, VerificationCheck
from tickets.workflow import DomainError

from .flow import pass_checks

pytestmark = pytest.mark.django_db

S = Status
# What the default policy needs besides the DNS proof for "call-back + DNS".
WITH_DNS = (CheckKind.EMAIL_CONFIRMED, CheckKind.FORMER_ADMIN_GONE, CheckKind.CALLBACK_ON_RECORD)


def filed(status=S.IN_REVIEW, tenant=None, matched=True, **kwargs):
    """A confirmed request with its DNS value (made at filing) and the requester's private tracking path."""
    tenant = tenant or factories.TenantFactory()
    kwargs.setdefault("dns_challenge", tokens.new_dns_challenge())
    sr, raw = factories.tracked_request(tenant_on_record=tenant, tenant=tenant if matched else None, status=status, **kwargs)
    return sr, factories.tracking_path(sr, raw)


def publish(dns_server, sr, *values):
    """Publish TXT values at the request's record name (the request's own value unless given)."""
    dns_server.publish(record_name(sr.company_domain), *(values or (sr.dns_challenge,)))


def look_up(sr, user=None):
    return services.domain_proof_look_up(service_request=sr, actor=actor(user or factories.agent()))


def dns_checks(sr):
    return list(VerificationCheck.objects.filter(service_request=sr, kind=CheckKind.DOMAIN_DNS))


def run(task):
    return task.apply().get()


# --- the lookup, against the real server --------------------------------------------------------


def test_the_exact_value_passes_the_check_and_the_answer_is_kept(dns_server, agent):
    sr, _ = filed()
    publish(dns_server, sr, "google-site-verification=abc", sr.dns_challenge)

    lookup = look_up(sr, agent)

    name = f"_escalation-portal.{sr.company_domain}"
    assert dns_server.asked == [(name, "TXT")] and dns_server.protocols == ["udp"]
    assert lookup.values == ["google-site-verification=abc", sr.dns_challenge]
    [check] = dns_checks(sr)
    assert check.outcome == CheckOutcome.PASSED and check.agent == agent
    assert sr.dns_challenge in check.note and name in check.note and dns_server.address in check.note
    sr.refresh_from_db()
    assert sr.dns_checked_at == lookup.at and now() - sr.dns_checked_at < timedelta(seconds=5)
    assert sr.dns_answer.startswith(f"{lookup.at:%Y-%m-%d %H:%M:%S} UTC, {name} TXT via {dns_server.address}: ")
    assert f'"{sr.dns_challenge}"' in sr.dns_answer and "not this request's value" not in sr.dns_answer

    event = AuditEvent.objects.get(action="check.recorded", target_id=str(sr.pk))
    assert event.actor == agent and event.tenant == sr.tenant
    assert event.after["check"] == CheckKind.DOMAIN_DNS and event.after["outcome"] == CheckOutcome.PASSED
    assert event.after["answer"] == lookup.values
    assert event.after["name"] == name and event.after["resolver"] == dns_server.address
    assert event.after["looked_up_at"] == lookup.at.isoformat()
    looked = AuditEvent.objects.get(action="domain_proof.looked_up", target_id=str(sr.pk))
    assert looked.after == {"name": name, "answer": lookup.values, "error": "", "resolver": dns_server.address}


@pytest.mark.parametrize(
    "case, why",
    [
        ("no TXT at the name", "no TXT record at this name"),
        ("another value", '"escalation-portal-proof=someone-else" (not this request\'s value)'),
        ("no such name", "NXDOMAIN (no such name)"),
        ("server silent", "no answer within 0.5 s (timeout)"),
        ("server failing", "the resolver failed (SERVFAIL or refused)"),
    ],
)
def test_nothing_passes_without_the_value_and_the_answer_says_why(dns_server, agent, case, why):
    sr, _ = filed()
    if case == "no TXT at the name":
        dns_server.publish(record_name(sr.company_domain))  # the name exists, with no TXT (NOERROR, empty)
    elif case == "another value":
        publish(dns_server, sr, "escalation-portal-proof=someone-else")
    elif case == "server silent":
        publish(dns_server, sr)
        dns_server.silent = True
    elif case == "server failing":
        publish(dns_server, sr)
        dns_server.failing.add(record_name(sr.company_domain))

    lookup = look_up(sr, agent)

    assert not lookup.found(sr.dns_challenge)
    assert dns_checks(sr) == []
    assert not AuditEvent.objects.filter(action="check.recorded").exists()
    sr.refresh_from_db()
    assert sr.status == S.IN_REVIEW
    assert sr.dns_checked_at == lookup.at
    assert sr.dns_answer.endswith(f"via {dns_server.address}: {why}"), sr.dns_answer
    assert dns_server.asked, "the server was asked"


def test_a_resolver_that_never_answers_times_out_quickly(dns_black_hole, agent):
    sr, _ = filed()
    started = time.monotonic()

    look_up(sr, agent)

    assert time.monotonic() - started < 2, "DNS_TIMEOUT bounds the wait"
    sr.refresh_from_db()
    assert sr.dns_answer.endswith(f"via {dns_black_hole.address}: no answer within 0.5 s (timeout)")
    assert dns_checks(sr) == []


@pytest.mark.parametrize(
    "published",
    [
        "{v} ",
        " {v}",
        "{v}x",
        '"{v}"',
        "ESCALATION-PORTAL-PROOF={rest}",
        "escalation-portal-proof=",
    ],
    ids=["trailing space", "leading space", "longer", "quoted", "other case", "prefix only"],
)
def test_only_the_exact_value_counts(dns_server, agent, published):
    sr, _ = filed()
    rest = sr.dns_challenge.split("=", 1)[1]
    publish(dns_server, sr, published.format(v=sr.dns_challenge, rest=rest))
    look_up(sr, agent)
    assert dns_checks(sr) == []
    assert "(not this request's value)" in ServiceRequest.objects.get(pk=sr.pk).dns_answer


def test_a_value_split_into_several_strings_is_read_whole(dns_server, agent):
    sr, _ = filed()
    value = sr.dns_challenge
    publish(dns_server, sr, (value[:20], value[20:]))
    look_up(sr, agent)
    assert [c.outcome for c in dns_checks(sr)] == [CheckOutcome.PASSED]


def test_a_long_answer_truncated_over_udp_is_read_over_tcp(dns_server, agent):
    """A domain with many TXT records (SPF, other services' tokens) does not fit in a classic UDP answer."""
    sr, _ = filed()
    others = [f"service-{n}-verification=" + "x" * 40 for n in range(12)]
    publish(dns_server, sr, *others, sr.dns_challenge)

    lookup = look_up(sr, agent)

    assert dns_server.protocols == ["udp", "tcp"]
    assert lookup.values == [*others, sr.dns_challenge]
    assert [c.outcome for c in dns_checks(sr)] == [CheckOutcome.PASSED]


def test_each_lookup_asks_again_and_the_check_passes_once(dns_server, agent):
    sr, _ = filed()
    look_up(sr, agent)
    publish(dns_server, sr)
    look_up(sr, agent)
    look_up(sr, agent)
    assert len(dns_server.asked) == 3, "no cache: a record published a minute ago is seen"
    assert len(dns_checks(sr)) == 1
    assert AuditEvent.objects.filter(action="check.recorded").count() == 1
    assert AuditEvent.objects.filter(action="domain_proof.looked_up").count() == 3


def test_the_proof_stays_when_the_record_is_removed_afterwards(dns_server, agent):
    sr, _ = filed()
    publish(dns_server, sr)
    look_up(sr, agent)
    dns_server.remove(record_name(sr.company_domain))

    look_up(sr, agent)

    assert [c.outcome for c in dns_checks(sr)] == [CheckOutcome.PASSED], "the check says what was seen, and when"
    assert "NXDOMAIN" in ServiceRequest.objects.get(pk=sr.pk).dns_answer


def test_a_resolver_setting_that_is_not_an_address_is_an_answer_not_a_crash(settings, agent):
    settings.DNS_RESOLVER = "dns.internal.example:53"
    sr, _ = filed()
    look_up(sr, agent)
    sr.refresh_from_db()
    assert "DNS_RESOLVER must be an IP address" in sr.dns_answer
    assert dns_checks(sr) == []


@pytest.mark.parametrize("status", [S.AWAITING_EMAIL_CONFIRMATION, S.ELEVATION_PROPOSED, S.REJECTED, S.CANCELLED])
def test_a_request_that_is_not_being_reviewed_is_not_looked_up(dns_server, agent, status):
    sr, _ = filed(status=status)
    publish(dns_server, sr)
    with pytest.raises(DomainError, match="only be looked up while the request is being reviewed"):
        look_up(sr, agent)
    assert dns_server.asked == []
    sr.refresh_from_db()
    assert sr.dns_checked_at is None and dns_checks(sr) == []
    assert not AuditEvent.objects.filter(action__in=["domain_proof.looked_up", "check.recorded"]).exists()


# --- the domain must be the tenant's ------------------------------------------------------------


def test_a_domain_that_is_not_the_matched_tenants_does_not_pass(dns_server, agent):
    tenant = factories.TenantFactory()
    sr, _ = filed(tenant=tenant, company_domain="attacker.example")
    publish(dns_server, sr)

    lookup = look_up(sr, agent)

    assert lookup.found(sr.dns_challenge), "the record is there"
    assert dns_checks(sr) == [], "but it proves a domain that is not the tenant's"


def test_a_subdomain_of_the_tenants_domain_does_not_pass(dns_server, agent):
    tenant = factories.TenantFactory()
    sr, _ = filed(tenant=tenant, company_domain=f"eu.{tenant.primary_domain}")
    publish(dns_server, sr)
    look_up(sr, agent)
    assert dns_checks(sr) == []


def test_another_verified_domain_of_the_tenant_passes(dns_server, agent):
    tenant = factories.TenantFactory()
    TenantDomain.objects.create(tenant=tenant, domain="fabrikam-group.example")
    sr, _ = filed(tenant=tenant, company_domain="Fabrikam-Group.example")
    publish(dns_server, sr)
    look_up(sr, agent)
    assert [c.outcome for c in dns_checks(sr)] == [CheckOutcome.PASSED]


def test_before_matching_the_domain_must_be_a_tenants(dns_server, agent):
    nobody, _ = filed(matched=False, company_domain="nobody.example")
    holder = factories.TenantFactory()
    suggested, _ = filed(matched=False, tenant=holder)
    for sr in (nobody, suggested):
        publish(dns_server, sr)
        look_up(sr, agent)
    assert dns_checks(nobody) == [], "no tenant holds the domain"
    assert [c.outcome for c in dns_checks(suggested)] == [CheckOutcome.PASSED], "the tenant holding the domain"


def test_matching_another_tenant_voids_a_proof_made_before_matching(dns_server, agent):
    """The proof was of the suggested tenant's domain; matched to another tenant, it proves nothing about it."""
    holder = factories.TenantFactory()
    sr, _ = filed(matched=False, tenant=holder)
    pass_checks(sr, (CheckKind.EMAIL_CONFIRMED,))
    publish(dns_server, sr)
    look_up(sr, agent)
    assert [c.outcome for c in dns_checks(sr)] == [CheckOutcome.PASSED]
    other = factories.TenantFactory()

    services.service_request_match_tenant(service_request=sr, tenant=other, actor=actor(agent))
    for kind in (CheckKind.FORMER_ADMIN_GONE, CheckKind.CALLBACK_ON_RECORD):
        services.verification_check_record(service_request=sr, actor=actor(agent), kind=kind, outcome=CheckOutcome.PASSED)
    look_up(sr, agent)

    sr.refresh_from_db()
    assert sr.status == S.IN_REVIEW, "call-back to the other tenant + a DNS proof of a domain not its own"
    assert CheckKind.DOMAIN_DNS not in selectors.passed_kinds(sr)
    assert [c.outcome for c in dns_checks(sr)] == [CheckOutcome.PASSED, CheckOutcome.VOIDED]


# --- the policy: call-back + DNS ----------------------------------------------------------------


def test_call_back_and_dns_verify_without_identity_evidence_or_company_details(dns_server, agent, deliver):
    sr, _ = filed()
    pass_checks(sr, WITH_DNS)
    publish(dns_server, sr)

    look_up(sr, agent)

    sr.refresh_from_db()
    assert sr.status == S.VERIFIED
    assert not sr.checks.filter(kind__in=[CheckKind.IDENTITY_EVIDENCE, CheckKind.COMPANY_DETAILS]).exists()
    event = AuditEvent.objects.get(action="status.changed", target_id=str(sr.pk))
    assert (event.before, event.after) == ({"status": S.IN_REVIEW}, {"status": S.VERIFIED})
    deliver()
    assert any(sr.reference in m.subject for m in emails_to(sr.requester_email)), "the requester is told"


@pytest.mark.parametrize("missing", WITH_DNS)
def test_dns_without_one_of_the_others_does_not_verify(dns_server, agent, missing):
    sr, _ = filed()
    pass_checks(sr, [k for k in WITH_DNS if k != missing])
    publish(dns_server, sr)
    look_up(sr, agent)
    sr.refresh_from_db()
    assert CheckKind.DOMAIN_DNS in selectors.passed_kinds(sr)
    assert sr.status == S.IN_REVIEW


def test_the_email_confirmation_never_counts_as_a_channel(dns_server, agent):
    """Email + DNS, email + call-back: one channel each, with the mailbox. Never enough."""
    by_dns, _ = filed()
    pass_checks(by_dns, (CheckKind.EMAIL_CONFIRMED, CheckKind.FORMER_ADMIN_GONE))
    publish(dns_server, by_dns)
    look_up(by_dns, agent)
    by_call, _ = filed()
    pass_checks(by_call, (CheckKind.EMAIL_CONFIRMED, CheckKind.FORMER_ADMIN_GONE))
    services.verification_check_record(
        service_request=by_call, actor=actor(agent), kind=CheckKind.CALLBACK_ON_RECORD, outcome=CheckOutcome.PASSED
    )
    for sr in (by_dns, by_call):
        sr.refresh_from_db()
        assert sr.status == S.IN_REVIEW
        assert not selectors.proof(sr).complete
    with pytest.raises(DomainError, match="requester's own link"):
        services.verification_check_record(
            service_request=by_dns, actor=actor(agent), kind=CheckKind.EMAIL_CONFIRMED, outcome=CheckOutcome.PASSED
        )
    with pytest.raises(DomainError, match="records this check itself"):
        services.verification_check_record(
            service_request=by_call, actor=actor(agent), kind=CheckKind.DOMAIN_DNS, outcome=CheckOutcome.PASSED
        )


def test_a_request_still_new_keeps_the_proof_for_the_agent(dns_server, agent):
    sr, _ = filed(status=S.NEW)
    pass_checks(sr, WITH_DNS)
    publish(dns_server, sr)
    look_up(sr, agent)
    sr.refresh_from_db()
    assert sr.status == S.NEW, "nobody has reviewed it yet: the proof waits for the agent"
    assert CheckKind.DOMAIN_DNS in selectors.passed_kinds(sr)


# --- the requester's tracking page --------------------------------------------------------------


def test_file_confirm_publish_check_now(client, dns_server, deliver):
    """The whole path: the value is made at filing, shown on the private page, and "Check now" proves it."""
    tenant = factories.TenantFactory(primary_domain="fabrikam.example")
    assert submit(client, tenant).status_code == 302
    deliver()
    confirm = link_in(emails_to("claire@fabrikam.example")[-1], "/confirm/")
    tracking = client.post(confirm, {"token": confirm.split("token=")[1]})["Location"]
    sr = ServiceRequest.objects.get()
    assert sr.dns_challenge.startswith("escalation-portal-proof=")

    page = open_link(client, tracking).content.decode()
    assert 'id="dns-proof"' in page
    assert "<code>_escalation-portal.fabrikam.example</code>" in page
    assert f'<code id="dns-value">{sr.dns_challenge}</code>' in page

    response = client.post(tracking, {"action": "dns_look_up"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "We did not find the value yet." in page
    assert "Last looked up:" in page and "NXDOMAIN (no such name)" in page

    publish(dns_server, sr)
    response = client.post(tracking, {"action": "dns_look_up"})
    page = client.get(response["Location"]).content.decode()
    assert "We found your DNS record." in page
    assert 'id="dns-proof-passed"' in page and 'id="dns-value"' not in page
    [check] = dns_checks(sr)
    assert check.outcome == CheckOutcome.PASSED and check.agent is None
    event = AuditEvent.objects.get(action="check.recorded", after__check=CheckKind.DOMAIN_DNS)
    assert event.actor_label == "requester <claire@fabrikam.example>"
    assert event.after["answer"] == [sr.dns_challenge]
    assert AuditEvent.objects.filter(action="domain_proof.looked_up").count() == 2


def test_the_value_is_shown_only_to_the_holder_of_the_tracking_link(client, dns_server, deliver):
    tenant = factories.TenantFactory(primary_domain="fabrikam.example")
    former = factories.UserFactory(email="marc@fabrikam.example", is_active=False)
    factories.MembershipFactory(user=former, tenant=tenant, role=Membership.Role.GLOBAL_ADMIN)
    response = submit(client, tenant)
    submitted = client.get(response["Location"]).content.decode()
    deliver()
    confirm = link_in(emails_to("claire@fabrikam.example")[-1], "/confirm/")
    confirm_page = open_link(client, confirm).content.decode()
    tracking = client.post(confirm, {"token": confirm.split("token=")[1]})["Location"]
    deliver()
    sr = ServiceRequest.objects.get()
    value = sr.dns_challenge
    assert value in open_link(client, tracking).content.decode()

    objection = link_in(emails_to("marc@fabrikam.example")[-1], "/requests/object/")
    elsewhere = {
        "submitted page": submitted,
        "confirmation page": confirm_page,
        "objection page": open_link(client, objection).content.decode(),
        "wrong token": open_link(client, f"/requests/{sr.reference}/?token=not-the-token").content.decode(),
        "no token": client.__class__().get(f"/requests/{sr.reference}/").content.decode(),
        "access page": client.get(f"/requests/access/?reference={sr.reference}").content.decode(),
        **{
            f"email to {m.to[0]}: {m.subject}": m.body + "".join(a[0] for a in m.alternatives)
            for m in emails_to("marc@fabrikam.example") + emails_to("claire@fabrikam.example")
        },
    }
    assert [where for where, body in elsewhere.items() if value in body] == []
    assert open_link(client, f"/requests/{sr.reference}/?token=not-the-token").status_code == 404


def test_check_now_with_a_wrong_token_is_404_and_asks_nothing(client, dns_server):
    sr, link = filed()
    publish(dns_server, sr)
    response = client.post(f"/requests/{sr.reference}/?token=not-the-token", {"token": "not-the-token", "action": "dns_look_up"})
    assert response.status_code == 404
    assert sr.dns_challenge not in response.content.decode()
    assert dns_server.asked == []
    sr.refresh_from_db()
    assert sr.dns_checked_at is None and dns_checks(sr) == []


def test_a_record_on_a_domain_not_the_tenants_is_found_but_not_counted(client, dns_server):
    sr, link = filed(company_domain="attacker.example")
    publish(dns_server, sr)
    response = client.post(link, {"token": link.split("token=")[1], "action": "dns_look_up"})
    page = client.get(response["Location"]).content.decode()
    assert "We found your DNS record." not in page
    assert "it cannot count as proof for this request" in page
    assert 'id="dns-value"' in page, "still pending"
    assert dns_checks(sr) == []


def test_check_now_on_a_closed_request_changes_nothing(client, dns_server):
    sr, link = filed()
    publish(dns_server, sr)
    assert client.post(link, {"token": link.split("token=")[1], "action": "cancel", "confirm": "yes"}).status_code == 302
    page = open_link(client, link).content.decode()
    assert 'id="dns-proof"' not in page, "no DNS section on a closed request"

    response = client.post(link, {"token": link.split("token=")[1], "action": "dns_look_up"})  # a stale tab

    assert response.status_code == 200
    assert "only be looked up while the request is being reviewed" in response.content.decode()
    assert dns_server.asked == [] and dns_checks(sr) == []


def test_check_now_is_rate_limited_per_address(client, dns_server, fresh_rate_window):
    fresh_rate_window("20/h")  # tickets.dns, per address
    sr, link = filed()
    data = {"token": link.split("token=")[1], "action": "dns_look_up"}
    assert [client.post(link, data).status_code for _ in range(20)] == [302] * 20
    assert client.post(link, data).status_code == 429
    assert len(dns_server.asked) == 20


# --- the admin ----------------------------------------------------------------------------------


def _admin_url(sr):
    return f"/admin/tickets/servicerequest/{sr.pk}/change/"


def _dns_answer_on(page):
    match = re.search(r'<code class="sr-dns" id="dns-answer">(.*?)</code>', page, re.S)
    return match and match.group(1)


@pytest.mark.parametrize("who", ["agent", "supervisor"])
def test_the_admin_button_looks_up_and_shows_the_answer(request, dns_server, who):
    staff = request.getfixturevalue(who)
    client = request.getfixturevalue(f"{who}_client")
    sr, _ = filed()
    pass_checks(sr, WITH_DNS)
    page = client.get(_admin_url(sr)).content.decode()
    assert "Look up the DNS record now" in page
    assert f'_escalation-portal.{sr.company_domain} TXT "{sr.dns_challenge}"' in page
    assert _dns_answer_on(page) is None and "never" in page

    response = client.post(_admin_url(sr), {"action": "dns_look_up"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "DNS looked up: the answer is shown under the domain proof." in page
    assert _dns_answer_on(page).endswith(f"via {dns_server.address}: NXDOMAIN (no such name)")

    publish(dns_server, sr)
    client.post(_admin_url(sr), {"action": "dns_look_up"})
    page = client.get(_admin_url(sr)).content.decode()
    assert f"&quot;{sr.dns_challenge}&quot;" in _dns_answer_on(page)
    sr.refresh_from_db()
    assert sr.status == S.VERIFIED
    [check] = dns_checks(sr)
    assert check.agent == staff
    assert AuditEvent.objects.filter(action="domain_proof.looked_up", actor=staff).count() == 2


def test_no_admin_button_on_a_closed_request_and_a_forged_post_changes_nothing(agent_client, dns_server):
    sr, _ = filed(status=S.REJECTED)
    publish(dns_server, sr)
    assert "Look up the DNS record now" not in agent_client.get(_admin_url(sr)).content.decode()
    response = agent_client.post(_admin_url(sr), {"action": "dns_look_up"})
    assert response.status_code == 200
    assert "only be looked up while the request is being reviewed" in response.content.decode()
    assert dns_server.asked == [] and dns_checks(sr) == []


# --- the periodic lookup ------------------------------------------------------------------------


def test_beat_finds_a_record_published_later(dns_server):
    sr, _ = filed()
    pass_checks(sr, WITH_DNS)
    assert run(tasks.domain_proofs_look_up) == 0
    sr.refresh_from_db()
    assert "NXDOMAIN" in sr.dns_answer and len(dns_server.asked) == 1

    publish(dns_server, sr)
    assert run(tasks.domain_proofs_look_up) == 0, "looked up less than DOMAIN_PROOF_RECHECK ago"
    assert len(dns_server.asked) == 1
    with travel(timedelta(minutes=11)):
        assert run(tasks.domain_proofs_look_up) == 1
    sr.refresh_from_db()
    assert sr.status == S.VERIFIED
    [check] = dns_checks(sr)
    assert check.agent is None
    event = AuditEvent.objects.get(action="check.recorded", after__check=CheckKind.DOMAIN_DNS)
    assert event.actor_label == "system" and event.after["answer"] == [sr.dns_challenge]
    assert not AuditEvent.objects.filter(action="domain_proof.looked_up").exists(), "beat's lookups are not audited"

    with travel(timedelta(minutes=30)):
        assert run(tasks.domain_proofs_look_up) == 0
    assert len(dns_server.asked) == 2, "a proven request is not looked up again"


def test_beat_counts_only_what_passed(dns_server):
    sr, _ = filed(company_domain="attacker.example")
    publish(dns_server, sr)
    assert run(tasks.domain_proofs_look_up) == 0
    assert dns_checks(sr) == []


def test_proven_requests_do_not_fill_beats_batch(dns_server):
    with travel(-timedelta(hours=2)):
        proven, _ = filed()
        publish(dns_server, proven)
        look_up(proven)
    with travel(-timedelta(hours=1)):
        waiting, _ = filed()
        look_up(waiting)  # NXDOMAIN then
    publish(dns_server, waiting)

    assert services.domain_proofs_look_up(limit=1) == 1
    assert [c.outcome for c in dns_checks(waiting)] == [CheckOutcome.PASSED]


def test_beat_leaves_old_closed_and_unconfirmed_requests_alone(dns_server):
    with travel(-timedelta(days=15)):
        old, _ = filed()
    closed, _ = filed(status=S.REJECTED)
    unconfirmed, _ = filed(status=S.AWAITING_EMAIL_CONFIRMATION)
    without_value, _ = filed(dns_challenge="")
    for sr in (old, closed, unconfirmed, without_value):
        publish(dns_server, sr)

    assert run(tasks.domain_proofs_look_up) == 0
    assert dns_server.asked == []


def test_a_voided_proof_is_looked_up_again(dns_server, agent):
    tenant = factories.TenantFactory()
    sr, _ = filed(tenant=tenant)
    publish(dns_server, sr)
    look_up(sr, agent)
    for matched in (factories.TenantFactory(), tenant):  # matched to another tenant by mistake, then back
        services.service_request_match_tenant(service_request=sr, tenant=matched, actor=actor(agent))
    assert [c.outcome for c in dns_checks(sr)] == [CheckOutcome.PASSED, CheckOutcome.VOIDED]

    with travel(timedelta(minutes=11)):
        assert run(tasks.domain_proofs_look_up) == 1
    assert [c.outcome for c in dns_checks(sr)] == [CheckOutcome.PASSED, CheckOutcome.VOIDED, CheckOutcome.PASSED]
