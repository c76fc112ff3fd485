"""Failed forms as a person meets them: each error next to its field, tied to it, and listed at the top."""

import re

import pytest

from tests.helpers import captcha_answer, form_data, pdf

FORMS = {
    "request": "/requests/new/admin_left/",
    "access": "/requests/access/",
    "reset": "/password-reset/work/",
}


def post_with_wrong_captcha(client, url, **headers):
    page = client.get(url, **headers)
    data = {**captcha_answer(page.content.decode()), "captcha_1": "wrong!"}
    if "new" in url:
        data.update(form_data(), evidence=[pdf()])
    elif "access" in url:
        data.update(reference="SR-AAAA-BBBB", email="claire@fabrikam.example")
    else:
        data.update(email="claire@fabrikam.example")
    return client.post(url, data, **headers)


def tag(html: str, id_: str) -> str:
    match = re.search(rf'<[a-z]+\b[^>]*\bid="{re.escape(id_)}"[^>]*>', html)
    assert match, f"nothing with id {id_!r}"
    return match.group(0)


@pytest.mark.parametrize("url", FORMS.values(), ids=FORMS.keys())
def test_a_wrong_captcha_is_marked_on_its_input_and_tied_to_its_message(client, db, url):
    html = post_with_wrong_captcha(client, url).content.decode()
    answer = tag(html, "id_captcha_1")
    assert "is-invalid" in answer, answer
    assert 'aria-invalid="true"' in answer, answer
    described = re.search(r'aria-describedby="([^"]+)"', answer).group(1).split()
    assert "id_captcha_error" in described
    message = re.search(r'<div id="id_captcha_error" class="invalid-feedback">(.*?)</div>', html, re.S)
    assert message and "Invalid CAPTCHA" in message.group(1)
    # A real label for the input, never a <legend for=…> (which labels nothing).
    assert re.search(r'<label\b[^>]*for="id_captcha_1"', html)
    assert not re.search(r"<legend\b[^>]*\bfor=", html)
    # The hidden key is not announced as invalid.
    assert "aria-invalid" not in tag(html, "id_captcha_0")


@pytest.mark.parametrize("url", FORMS.values(), ids=FORMS.keys())
def test_a_failed_form_lists_its_errors_at_the_top_with_links_to_the_fields(client, db, url):
    html = post_with_wrong_captcha(client, url).content.decode()
    summary = re.search(r'<div class="alert alert-danger" role="alert" id="error-summary".*?</div>', html, re.S)
    assert summary, "no error summary"
    assert 'href="#id_captcha_1"' in summary.group(0)
    assert "Invalid CAPTCHA" in summary.group(0)
    assert html.index('id="error-summary"') < re.search(r"<form[^>]*novalidate", html).start()


def test_the_error_summary_links_every_field_in_error(client, db):
    page = client.get(FORMS["request"])
    data = {**form_data(requester_email="claire@gmail.com", company_domain=""), **captcha_answer(page.content.decode())}
    html = client.post(FORMS["request"], {**data, "evidence": [pdf()]}).content.decode()
    summary = re.search(r'id="error-summary".*?</div>', html, re.S).group(0)
    for field in ("company_domain", "requester_email"):
        assert f'href="#id_{field}"' in summary
        assert 'aria-invalid="true"' in tag(html, f"id_{field}")
        assert f"id_{field}_error" in tag(html, f"id_{field}")


def test_a_form_without_errors_has_no_summary(client, db):
    for url in FORMS.values():
        assert 'id="error-summary"' not in client.get(url).content.decode()


@pytest.mark.parametrize("url", ["/requests/new/admin_left/"])
def test_the_evidence_help_is_in_the_readers_language(client, db, url):
    """It was formatted at import time, which froze it in English."""
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "PDF, JPEG ou PNG" in french
    assert "up to 5 files" not in french
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "PDF, JPEG or PNG; up to 5 files of 10 MB each" in english


def test_the_evidence_help_of_the_reply_form_is_in_french():
    from django.utils import translation

    from tickets.forms import TrackingReplyForm

    with translation.override("fr"):
        assert str(TrackingReplyForm()["evidence"].help_text).startswith("PDF, JPEG ou PNG")
