"""Requester links: the single-use confirmation link, the private tracking page and fresh links by email."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portal.clock import travel
from tests import factories
from tests.conftest import actor, emails_to, link_in
from tests.helpers import captcha_answer, open_link, pdf, submit
from tickets import services
from tickets.models import Message, ServiceRequest

pytestmark = pytest.mark.django_db

REQUESTER = "claire@fabrikam.example"


def path_of(url: str) -> str:
    """The path and query of an emailed absolute link, as the test client wants it."""
    return re.sub(r"^https?://[^/]+", "", url)


def page_body(response) -> str:
    """The HTML without what changes on every response (CSRF tokens) or echoes the URL asked for."""
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return re.sub(r'name="next" value="[^"]*"', "", html)


def tracked(status="new", **kwargs):
    """A confirmed request and its private tracking path (as emailed to the requester)."""
    sr, raw = factories.tracked_request(status=status, **kwargs)
    return sr, factories.tracking_path(sr, raw)


def file_and_get_confirm_link(client, deliver) -> tuple[ServiceRequest, str]:
    assert submit(client).status_code == 302
    deliver()
    return ServiceRequest.objects.get(), path_of(link_in(emails_to(REQUESTER)[-1], "/confirm/"))


def token_of(path: str) -> str:
    return path.split("token=", 1)[1]


# --- the tracking page gives nothing away -------------------------------------------------------


def test_wrong_token_missing_token_and_unknown_reference_look_the_same(client, db):
    sr, good = tracked(company_legal_name="Secretive Holdings SA")
    assert open_link(client, good).status_code == 200

    stranger = client.__class__()  # holds no link's cookie
    answers = [
        open_link(stranger, f"/requests/{sr.reference}/?token=not-the-token"),
        stranger.get(f"/requests/{sr.reference}/"),
        open_link(stranger, f"/requests/{sr.reference}/?token="),
        open_link(stranger, "/requests/SR-ZZZZ-ZZZZ/?token=not-the-token"),
        open_link(stranger, f"/requests/SR-ZZZZ-ZZZZ/?token={token_of(good)}"),
        stranger.post(f"/requests/{sr.reference}/", {"token": "not-the-token", "action": "cancel", "confirm": "yes"}),
    ]
    assert [r.status_code for r in answers] == [404] * len(answers)
    bodies = {page_body(r) for r in answers}
    assert len(bodies) == 1, "the answer must not depend on whether the reference exists"
    body = bodies.pop()
    assert "Secretive Holdings" not in body
    assert "Page not found" in body
    sr.refresh_from_db()
    assert sr.status == "new", "a POST with a wrong token changed nothing"


def test_the_confirmation_token_does_not_open_the_tracking_page(client, deliver):
    sr, confirm = file_and_get_confirm_link(client, deliver)
    assert open_link(client, f"/requests/{sr.reference}/?token={token_of(confirm)}").status_code == 404


def test_junk_references_and_tokens_are_404_not_500(client, db):
    for path in (
        "/requests/" + "X" * 500 + "/?token=abc",
        "/requests/%00/?token=%00",
        "/requests/SR-AAAA-AAAA/?token=" + "a" * 5000,
        "/requests/sr-aaaa-aaaa/?token=%ff%fe",
    ):
        assert open_link(client, path).status_code == 404, path
    assert open_link(client, "/requests/SR-AAAA-AAAA/confirm/?token=%ff").status_code == 200  # only a button
    assert client.post("/requests/SR-AAAA-AAAA/confirm/", {}).status_code == 400
    assert client.post("/requests/" + "X" * 500 + "/confirm/", {"token": "x"}).status_code == 400
    assert client.post("/requests/access/", {}).status_code == 200


# --- the confirmation link ----------------------------------------------------------------------


def test_opening_the_confirmation_link_only_shows_a_button(client, agent, deliver):
    sr, confirm = file_and_get_confirm_link(client, deliver)
    page = open_link(client, confirm)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Confirm my email" in html and sr.reference in html
    assert token_of(confirm) not in html, "the token went into a cookie, not the page"
    assert page.redirect_chain == [(f"/requests/{sr.reference}/confirm/", 302)]
    sr.refresh_from_db()
    assert sr.status == "awaiting_email_confirmation", "a mail scanner following the link confirms nothing"
    deliver()
    assert not emails_to(agent.email)


def test_confirming_puts_the_request_in_the_queue_and_emails_the_tracking_link(client, agent, deliver):
    sr, confirm = file_and_get_confirm_link(client, deliver)
    response = client.post(confirm, {"token": token_of(confirm)})
    assert response.status_code == 302
    landing = client.get(response["Location"])
    assert "your email is confirmed" in landing.content.decode()
    sr.refresh_from_db()
    assert sr.status == "new" and sr.email_confirmed_at is not None

    deliver()
    received = emails_to(REQUESTER)[-1]
    assert sr.reference in received.subject
    tracking = path_of(link_in(received, f"/requests/{sr.reference}/?token="))
    page = open_link(client, tracking)
    assert page.status_code == 200
    assert 'id="status">New<' in page.content.decode()
    assert "Your request is in our queue" in page.content.decode()
    assert emails_to(agent.email), "agents hear of the request once it is confirmed"


def test_the_confirmation_link_works_once(client, deliver):
    sr, confirm = file_and_get_confirm_link(client, deliver)
    assert client.post(confirm, {"token": token_of(confirm)}).status_code == 302
    deliver()
    sent = len(mail.outbox)

    replay = client.post(confirm, {"token": token_of(confirm)})
    assert replay.status_code == 200
    assert "already confirmed" in replay.content.decode()
    deliver()
    assert len(mail.outbox) == sent, "no second tracking link, no second alert to agents"
    sr.refresh_from_db()
    assert sr.status == "new"


def test_a_wrong_confirmation_token_is_refused(client, deliver):
    sr, confirm = file_and_get_confirm_link(client, deliver)
    response = client.post(f"/requests/{sr.reference}/confirm/", {"token": token_of(confirm)[:-2] + "xx"})
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    sr.refresh_from_db()
    assert sr.status == "awaiting_email_confirmation"


def test_a_confirmation_link_older_than_24_hours_is_refused(client, agent, deliver):
    sr, confirm = file_and_get_confirm_link(client, deliver)
    with travel(timedelta(hours=25)):
        response = client.post(confirm, {"token": token_of(confirm)})
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert "expired" in response.content.decode()
    sr.refresh_from_db()
    assert sr.status == "awaiting_email_confirmation"
    deliver()
    assert not emails_to(agent.email)


def test_a_confirmation_link_still_works_after_23_hours(client, deliver):
    sr, confirm = file_and_get_confirm_link(client, deliver)
    with travel(timedelta(hours=23)):
        assert client.post(confirm, {"token": token_of(confirm)}).status_code == 302
    sr.refresh_from_db()
    assert sr.status == "new"


# --- a fresh link by email ----------------------------------------------------------------------


def ask_for_link(client, reference, email):
    page = client.get(f"/requests/access/?reference={reference}")
    assert f'value="{reference}"' in page.content.decode(), "the reference from the email is filled in"
    return client.post("/requests/access/", {"reference": reference, "email": email, **captcha_answer(page.content.decode())})


def test_a_fresh_link_replaces_the_old_one(client, deliver, celery_inline):
    sr, old = tracked()
    response = ask_for_link(client, sr.reference, "Claire@" + sr.company_domain.upper())
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    deliver()
    [email] = emails_to(sr.requester_email)
    new = path_of(link_in(email, f"/requests/{sr.reference}/?token="))
    assert new != old
    assert open_link(client, new).status_code == 200
    assert open_link(client, old).status_code == 404, "the old link stops working"


def test_a_wrong_email_gets_the_same_page_and_nothing_is_sent(client, deliver, celery_inline):
    sr, old = tracked()
    wrong = ask_for_link(client, sr.reference, "mallory@" + sr.company_domain)
    unknown = ask_for_link(client, "SR-ZZZZ-ZZZZ", sr.requester_email)
    deliver()
    assert mail.outbox == []
    assert open_link(client, old).status_code == 200, "a wrong guess does not break the real link"

    right = ask_for_link(client, sr.reference, sr.requester_email)
    assert right.status_code == wrong.status_code == unknown.status_code == 200
    assert page_body(right) == page_body(wrong) == page_body(unknown)
    deliver()
    assert [m.to for m in mail.outbox] == [[sr.requester_email]]


def test_a_wrong_captcha_on_the_access_page_sends_nothing(client, deliver, celery_inline):
    sr, _ = tracked()
    client.get("/requests/access/")
    response = client.post(
        "/requests/access/", {"reference": sr.reference, "email": sr.requester_email, "captcha_0": "abc", "captcha_1": "nope"}
    )
    assert response.status_code == 200
    assert "Invalid CAPTCHA" in response.content.decode()
    deliver()
    assert mail.outbox == []


def test_the_access_page_answers_in_the_same_time_for_a_match_and_a_miss(db, settings):
    """Timing must not tell which references and addresses exist: the page hands the lookup to a worker."""
    import statistics
    import time

    from django.test import Client

    from portal.celery import app
    from tests.broker import use_broker

    use_broker(app.conf.broker_url)  # fresh publisher pools (a worker test may have closed them)
    sr, _ = tracked()
    settings.RATELIMIT_ENABLE = False  # 100 posts from one address: the limit is another test's subject

    def timed(reference, email):
        browser = Client()
        page = browser.get(f"/requests/access/?reference={reference}").content.decode()
        data = {"reference": reference, "email": email, **captcha_answer(page)}
        start = time.perf_counter()
        assert browser.post("/requests/access/", data).status_code == 200
        return time.perf_counter() - start

    match, miss = [], []
    for _ in range(50):  # interleaved, so that the machine's noise falls on both alike
        match.append(timed(sr.reference, sr.requester_email))
        miss.append(timed("SR-ZZZZ-ZZZZ", sr.requester_email))
    difference = abs(statistics.median(match) - statistics.median(miss)) * 1000
    assert difference < 5, f"median {statistics.median(match) * 1000:.1f} ms vs {statistics.median(miss) * 1000:.1f} ms"


# --- replying and cancelling on the tracking page -----------------------------------------------


def waiting_on_requester(agent):
    sr, link = tracked()
    services.service_request_assign(service_request=sr, actor=actor(agent))
    services.service_request_ask_information(service_request=sr, actor=actor(agent), body="Please send a letter on company paper.")
    services.service_request_post_message(
        service_request=sr, actor=actor(agent), kind=Message.Kind.INTERNAL, body="Caller sounded nervous; double-check the call-back."
    )
    sr.refresh_from_db()
    assert sr.status == "waiting_on_requester"
    return sr, link


def test_a_reply_with_a_file_puts_the_request_back_in_review(client, agent, deliver):
    sr, link = waiting_on_requester(agent)
    page = open_link(client, link).content.decode()
    assert "Please send a letter on company paper." in page
    assert "We need something from you" in page
    assert "Caller sounded nervous" not in page, "internal notes are for staff only"

    response = client.post(
        link,
        {"token": token_of(link), "action": "reply", "body": "Here is the signed letter.", "evidence": [pdf("letter-on-paper.pdf")]},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Your reply has been sent to the support team." in page
    timeline = page[page.index('id="timeline"') : page.index("</ul>", page.index('id="timeline"'))]
    assert "Here is the signed letter." in timeline
    assert "letter-on-paper.pdf" in timeline
    assert timeline.index("Please send a letter") < timeline.index("Here is the signed letter.")
    assert 'id="status">In review<' in page
    assert "Caller sounded nervous" not in page

    sr.refresh_from_db()
    assert sr.status == "in_review"
    reply = sr.messages.get(from_requester=True)
    assert [e.original_name for e in reply.attachments.all()] == ["letter-on-paper.pdf"]
    deliver()
    assert any(sr.reference in m.subject for m in emails_to(agent.email)), "the assignee hears of the reply"


def test_a_reply_with_a_bad_file_is_refused_and_changes_nothing(client, agent):
    sr, link = waiting_on_requester(agent)
    response = client.post(
        link,
        {
            "token": token_of(link),
            "action": "reply",
            "body": "See attached.",
            "evidence": [SimpleUploadedFile("setup.pdf", b"MZ\x90\x00" * 64)],
        },
    )
    assert response.status_code == 200
    assert "is not a PDF, JPEG or PNG file" in response.content.decode()
    assert "See attached." in response.content.decode(), "the typed reply is kept"
    sr.refresh_from_db()
    assert sr.status == "waiting_on_requester"
    assert not sr.messages.filter(from_requester=True).exists()
    assert not sr.evidence.exists()


def test_cancel_while_open_then_no_more_replies(client, agent, deliver):
    sr, link = tracked()
    services.service_request_assign(service_request=sr, actor=actor(agent))
    page = open_link(client, link).content.decode()
    assert "Cancel my request" in page and "Reply to support" in page

    response = client.post(link, {"token": token_of(link), "action": "cancel", "confirm": "yes"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Your request is cancelled." in page
    assert 'id="status">Cancelled<' in page
    assert "You cancelled this request." in page
    assert "Cancel my request" not in page and "Reply to support" not in page
    sr.refresh_from_db()
    assert sr.status == "cancelled" and sr.closed_at is not None
    deliver()
    assert emails_to(agent.email), "the assignee is told"

    # A stale tab still posts a reply, or the cancel button again: a message, never a 500.
    late = client.post(link, {"token": token_of(link), "action": "reply", "body": "One more thing"})
    assert late.status_code == 200
    assert "This request is closed; it can no longer be changed." in late.content.decode()
    assert not sr.messages.filter(body="One more thing").exists()
    again = client.post(link, {"token": token_of(link), "action": "cancel", "confirm": "yes"})
    assert again.status_code == 200
    assert 'id="status">Cancelled<' in again.content.decode()
    assert 'class="alert alert-danger"' in again.content.decode()


@pytest.mark.parametrize("days, visible", [(29, True), (31, False)])
def test_the_tracking_link_dies_30_days_after_closing(client, db, deliver, celery_inline, days, visible):
    sr, link = tracked()
    assert client.post(link, {"token": token_of(link), "action": "cancel", "confirm": "yes"}).status_code == 302
    with travel(timedelta(days=days)):
        assert open_link(client, link).status_code == (200 if visible else 404)
        ask_for_link(client, sr.reference, sr.requester_email)
        deliver()
        sent = [m for m in emails_to(sr.requester_email) if f"/requests/{sr.reference}/?token=" in m.body]
        assert bool(sent) is visible, "no fresh link for a request closed long ago"


def test_opening_the_confirmation_link_again_says_the_request_is_already_confirmed(client, deliver):
    """Not "link not valid, file a new request", which invites a duplicate: the tracking link was emailed."""
    sr, confirm = file_and_get_confirm_link(client, deliver)
    assert client.post(confirm, {"token": token_of(confirm)}).status_code == 302
    for browser in (client, Client()):  # the same browser, or the email opened again elsewhere
        page = open_link(browser, confirm)
        html = page.content.decode()
        assert page.status_code == 200 and "Request already confirmed" in html
        assert sr.reference in html and "emailed you a private link" in html
        assert 'href="/requests/access/"' in html, "the way to get a new tracking link"
        assert "File a new request" not in html


def test_a_used_confirmation_token_of_another_request_is_still_not_valid(client, deliver):
    sr, confirm = file_and_get_confirm_link(client, deliver)
    assert client.post(confirm, {"token": token_of(confirm)}).status_code == 302
    other = factories.ServiceRequestFactory(reference="SR-OTHR-0001")
    response = client.post(f"/requests/{other.reference}/confirm/", {"token": token_of(confirm)})
    assert response.status_code == 400 and "already confirmed" not in response.content.decode()


def test_what_you_filed_lists_the_evidence_received(client, deliver):
    assert submit(client, files=[pdf("id-card.pdf"), pdf("letter.pdf", size=2048)]).status_code == 302
    deliver()
    sr = ServiceRequest.objects.get()
    confirm = link_in(emails_to(REQUESTER)[-1], "/confirm/")
    client.post(path_of(confirm), {"token": token_of(confirm)})
    html = open_link(client, f"/requests/{sr.reference}/").content.decode()
    received = html.split('id="evidence-received"')[1].split("</ul>")[0]
    assert "id-card.pdf" in received and "letter.pdf" in received
    assert "2.0\xa0KB" in received, "the size as people read it"
    assert str(sr.evidence.get(original_name="letter.pdf").created_at.year) in received, "when it arrived"
