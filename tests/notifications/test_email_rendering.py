"""Emails as recipients read them: both parts, their language, no HTML escaping in plain text."""

from notifications.models import OutboxMessage
from notifications.services import render_message
from portal.clock import now


def _message(template, language, **context):
    return OutboxMessage(created_at=now(), template=template, to_email="x@example.org", language=language, context=context)


def test_plain_text_is_not_html_escaped_and_html_is(db):
    subject, text, html = render_message(
        _message(
            "status_changed",
            "en",
            reference="SR-AAAA-BBBB",
            requester_name="Jean & Marie O'Neil",
            status="in_review",
            access_url="http://x/",
        )
    )
    assert "Hello Jean & Marie O'Neil," in text
    assert "Jean &amp; Marie O&#x27;Neil" in html
    assert subject == "[SR-AAAA-BBBB] Status: In review"


def test_french_recipient_gets_french_email(db):
    subject, text, _html = render_message(
        _message("rejected", "fr", reference="SR-AAAA-BBBB", requester_name="Claire", reason="Numéro injoignable")
    )
    assert "Numéro injoignable" in text
    assert "Reason" not in text and "Hello" not in text
    assert "SR-AAAA-BBBB" in subject


def test_role_names_are_words_in_the_recipients_language(db):
    context = {"by": "gloria@fabrikam.example", "tenant": "Fabrikam SARL", "before": "member", "after": "global_admin"}
    _subject, english, _html = render_message(_message("role_changed", "en", **context))
    assert "from “Member” to “Global admin”" in english
    _subject, french, _html = render_message(_message("role_changed", "fr", **context))
    assert "global_admin" not in french and "Administrateur général" in french
