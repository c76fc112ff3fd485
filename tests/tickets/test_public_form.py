"""The public form /requests/new/<category>/ as a requester (or someone malicious) uses it."""

import re
from html import unescape

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from notifications.models import OutboxMessage
from tests.conftest import emails_to
from tests.helpers import PNG_BYTES, captcha_answer, form_data, pdf, submit
from tickets.models import Evidence, ServiceRequest

URL = "/requests/new/admin_left/"
JOB = "Chief Paperclip Officer"  # a value the person typed, to find again in a re-rendered form


def field_error(html: str, name: str) -> str:
    """The error text crispy shows right under the field ``name`` ("" if none)."""
    match = re.search(rf'<div id="id_{name}_error" class="invalid-feedback">(.*?)</div>', html, re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split()) if match else ""


def post_form(client, files=None, remote_addr="127.0.0.1", captcha=None, **overrides):
    """GET the form (for its CAPTCHA), then POST it from ``remote_addr``."""
    page = client.get(URL, REMOTE_ADDR=remote_addr)
    data = {**form_data(requester_job_title=JOB, **overrides), **captcha_answer(page.content.decode())}
    if captcha is not None:
        data["captcha_1"] = captcha
    data["evidence"] = [pdf()] if files is None else files
    return client.post(URL, data, REMOTE_ADDR=remote_addr)


def assert_refused_and_kept(response, field, message_part, reupload=True):
    """Refused: the form comes back with the error next to ``field``, what was typed, and nothing filed."""
    assert response.status_code == 200
    html = response.content.decode()
    assert message_part in field_error(html, field), field_error(html, field) or html
    assert f'value="{JOB}"' in html, "what the person typed is kept"
    assert "Nobody can manage our users since Marc left." in html
    assert ('id="reupload-notice"' in html) is reupload
    assert not ServiceRequest.objects.exists()
    assert not Evidence.objects.exists()
    assert not OutboxMessage.objects.exists()


# --- evidence uploads -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200,  # Windows executable
        b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200,  # Linux executable
        b"Dear support, here is my ID. Regards, Claire",  # plain text
    ],
    ids=["exe", "elf", "text"],
)
def test_a_file_that_is_not_really_a_pdf_is_refused(client, db, content):
    fake = SimpleUploadedFile("passport.pdf", content, content_type="application/pdf")
    response = post_form(client, files=[fake])
    assert_refused_and_kept(response, "evidence", "“passport.pdf” is not a PDF, JPEG or PNG file")


def test_a_file_over_10_mb_is_refused(client, db):
    response = post_form(client, files=[pdf("scan.pdf", size=settings.EVIDENCE_MAX_BYTES + 1)])
    assert_refused_and_kept(response, "evidence", "“scan.pdf” is larger than 10.0 MB, the limit for each file.")


def test_six_files_are_refused(client, db):
    response = post_form(client, files=[pdf(f"page-{i}.pdf") for i in range(6)])
    assert_refused_and_kept(response, "evidence", "Attach at most 5 files (you chose 6).")


def test_one_bad_file_among_good_ones_refuses_the_lot(client, db):
    files = [pdf("ok.pdf"), SimpleUploadedFile("evil.png", b"#!/bin/sh\nrm -rf /\n", content_type="image/png")]
    response = post_form(client, files=files)
    assert_refused_and_kept(response, "evidence", "“evil.png” is not a PDF, JPEG or PNG file")


def test_a_pdf_and_a_png_are_accepted_and_kept_privately(client, db):
    png = SimpleUploadedFile("photo.png", PNG_BYTES, content_type="image/png")
    big = pdf("exactly-10mb.pdf", size=settings.EVIDENCE_MAX_BYTES)
    response = post_form(client, files=[pdf("id-card.pdf"), png, big])
    assert response.status_code == 302, field_error(response.content.decode(), "evidence")
    page = client.get(response["Location"])
    sr = ServiceRequest.objects.get()
    assert sr.reference in page.content.decode()
    stored = {e.original_name: e for e in sr.evidence.all()}
    assert set(stored) == {"id-card.pdf", "photo.png", "exactly-10mb.pdf"}
    assert stored["photo.png"].content_type == "image/png"
    assert stored["id-card.pdf"].content_type == "application/pdf"
    assert stored["exactly-10mb.pdf"].size == settings.EVIDENCE_MAX_BYTES
    with stored["photo.png"].file.open("rb") as fh:
        assert fh.read() == PNG_BYTES


def test_evidence_is_optional(client, db):
    response = post_form(client, files=[])
    assert response.status_code == 302
    assert ServiceRequest.objects.get().evidence.count() == 0


# --- who may file -----------------------------------------------------------------------------


def test_a_free_mail_requester_is_refused_with_an_explanation(client, db):
    response = post_form(client, requester_email="claire.martin@gmail.com")
    assert_refused_and_kept(response, "requester_email", "gmail.com is a public email service")
    assert "work address on the company" in field_error(response.content.decode(), "requester_email")


def test_a_free_mail_company_domain_is_refused(client, db):
    response = post_form(
        client,
        company_domain="gmail.com",
        requester_email="claire@gmail.com",
        elevate_email="luc@gmail.com",
        former_admin_email="marc@gmail.com",
    )
    assert_refused_and_kept(response, "company_domain", "gmail.com is a public email service, not a company domain")


@pytest.mark.parametrize(
    "email",
    [
        "claire@contoso.example",  # another company
        "claire@evilfabrikam.example",  # ends with the domain, but is not it
        "claire@fabrikam.example.evil.io",  # starts with it
    ],
)
def test_a_requester_email_off_the_company_domain_is_refused(client, db, email):
    response = post_form(client, requester_email=email)
    assert_refused_and_kept(response, "requester_email", "This address is not on fabrikam.example")


def test_the_user_to_elevate_must_be_on_the_company_domain(client, db):
    response = post_form(client, elevate_email="luc@contoso.example")
    assert_refused_and_kept(response, "elevate_email", "This address is not on fabrikam.example")
    assert field_error(response.content.decode(), "requester_email") == ""


def test_addresses_on_a_subdomain_and_in_capitals_are_accepted(client, db):
    response = post_form(
        client,
        company_domain="https://www.Fabrikam.example/",
        requester_email="Claire@FABRIKAM.example",
        elevate_email="luc@eu.fabrikam.example",
    )
    assert response.status_code == 302, response.content.decode()
    sr = ServiceRequest.objects.get()
    assert (sr.company_domain, sr.requester_email) == ("fabrikam.example", "claire@fabrikam.example")


# --- CAPTCHA ----------------------------------------------------------------------------------


def test_a_wrong_captcha_is_refused_and_the_data_kept(client, db):
    response = post_form(client, captcha="not-the-answer")
    assert_refused_and_kept(response, "captcha", "Invalid CAPTCHA")
    html = response.content.decode()
    assert 'value="not-the-answer"' not in html, "a fresh CAPTCHA is asked for"
    assert field_error(html, "evidence") == "", "the files themselves were fine"


def test_a_captcha_answer_cannot_be_used_twice(client, db):
    page = client.get(URL)
    data = {**form_data(requester_job_title=JOB), **captcha_answer(page.content.decode()), "evidence": [pdf()]}
    assert client.post(URL, data).status_code == 302
    data["evidence"] = [pdf()]
    again = client.post(URL, data)
    assert again.status_code == 200
    assert "Invalid CAPTCHA" in again.content.decode()
    assert ServiceRequest.objects.count() == 1


# --- rate limit -------------------------------------------------------------------------------


def test_the_sixth_filing_in_an_hour_from_one_address_is_refused(client, db, fresh_rate_window):
    assert settings.SERVICE_REQUEST_RATE == "5/h"
    fresh_rate_window("5/h", "10.0.0.1")
    for i in range(5):
        response = post_form(client, remote_addr="10.0.0.1", requester_name=f"Claire {i}")
        assert response.status_code == 302, f"filing {i + 1} should pass"
    sixth = post_form(client, remote_addr="10.0.0.1", requester_name="Claire 6")
    assert sixth.status_code == 429
    assert "Too many requests" in sixth.content.decode()
    assert ServiceRequest.objects.count() == 5
    assert not ServiceRequest.objects.filter(requester_name="Claire 6").exists()
    assert OutboxMessage.objects.filter(template="confirm_email").count() == 5

    other = post_form(client, remote_addr="10.0.0.2", requester_name="Someone else")
    assert other.status_code == 302
    assert ServiceRequest.objects.get(requester_name="Someone else").submitted_ip == "10.0.0.2"


def test_refused_forms_do_not_use_up_the_limit(client, db, fresh_rate_window):
    fresh_rate_window(settings.SERVICE_REQUEST_RATE, "10.0.0.3")  # else a new window could hide a refusal that counted
    for _ in range(6):
        assert post_form(client, remote_addr="10.0.0.3", requester_email="c@gmail.com").status_code == 200
    assert post_form(client, remote_addr="10.0.0.3").status_code == 302


# --- junk never gives a 500 -------------------------------------------------------------------


def test_an_unknown_category_is_404(client, db):
    assert client.get("/requests/new/free_admin_rights/").status_code == 404
    assert client.post("/requests/new/free_admin_rights/", form_data()).status_code == 404
    assert client.get("/requests/new/../../etc/passwd/").status_code == 404


def test_an_empty_post_shows_the_errors(client, db):
    response = client.post(URL, {})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Some fields need your attention" in html
    assert "This field is required." in field_error(html, "requester_email")
    assert 'id="reupload-notice"' not in html, "no files were chosen, none to choose again"
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize(
    "junk",
    [
        {"company_country": "ZZ", "former_admin_reason": "bribed"},
        {"company_domain": "x" * 300 + ".example", "requester_email": "not-an-email"},
        {"requester_email": "claire@", "elevate_email": "@fabrikam.example"},
        {"company_domain": "fabrikam", "captcha_0": "not-a-key"},
        {"evidence": "just a string, not a file", "consent": ""},
        {"company_legal_name": "A\x00B", "requester_name": "x" * 20000},
        {"captcha_0": "abc\x00", "captcha_1": "\x00"},
        {"captcha_0": "", "captcha_1": ""},
    ],
)
def test_junk_input_is_answered_with_errors_not_a_500(client, db, junk):
    page = client.get(URL)
    data = {**form_data(), **captcha_answer(page.content.decode()), **junk}
    response = client.post(URL, data)
    assert response.status_code == 200
    assert "Some fields need your attention" in response.content.decode()
    assert not ServiceRequest.objects.exists()


def test_other_methods_are_not_allowed(client, db):
    assert client.put(URL).status_code == 405
    assert client.delete(URL).status_code == 405


# --- nothing enters the queue before the email is confirmed -----------------------------------


def test_a_filed_request_waits_for_the_email_confirmation(client, agent, deliver):
    response = submit(client)
    assert response.status_code == 302
    sr = ServiceRequest.objects.get()
    assert sr.status == "awaiting_email_confirmation"
    assert sr.email_confirmed_at is None and sr.sla_due_at is None
    deliver()
    assert not emails_to(agent.email), "agents hear nothing of an unconfirmed request"
    [confirm] = emails_to("claire@fabrikam.example")
    assert sr.reference in confirm.subject + confirm.body
    assert f"/requests/{sr.reference}/confirm/?token=" in confirm.body
    page = client.get(response["Location"]).content.decode()
    assert "confirmation link" in page and sr.reference in page


def test_the_submitted_page_without_a_filing_goes_back_to_the_start(client, db):
    response = client.get("/requests/submitted/")
    assert response.status_code == 302
    assert response["Location"] == "/requests/new/"


def test_fifteen_simultaneous_filings_from_one_address_give_five(transactional_db, fresh_rate_window):
    """The attack: fire all the filings at once, so that each is checked before any is counted."""
    import threading

    from django.db import connection
    from django.test import Client

    fresh_rate_window(settings.SERVICE_REQUEST_RATE, "10.0.0.9")
    browsers = []
    for i in range(15):  # each browser has loaded the form and solved its own CAPTCHA
        browser = Client(REMOTE_ADDR="10.0.0.9")
        page = browser.get(URL).content.decode()
        browsers.append(
            (
                browser,
                {**form_data(requester_job_title=JOB, requester_name=f"Claire {i}"), **captcha_answer(page), "evidence": [pdf()]},
            )
        )
    barrier = threading.Barrier(len(browsers), timeout=20)
    answers = []

    def file(browser, data):
        try:
            barrier.wait()
            answers.append(browser.post(URL, data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=file, args=pair) for pair in browsers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert sorted(answers) == [302] * 5 + [429] * 10, answers
    assert ServiceRequest.objects.count() == 5
