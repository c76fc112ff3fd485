"""Delivery over real SMTP to a small server on 127.0.0.1: what an operator's relay would see."""

import socketserver
import threading

import pytest
from django.core import mail
from django.template import TemplateDoesNotExist

from notifications.models import OutboxMessage
from notifications.services import outbox_deliver_message
from portal.clock import now


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept messages (EHLO, MAIL, RCPT, DATA, QUIT) and keep what arrives."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        data_mode, lines = False, []
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if data_mode:
                if line == ".":
                    self.server.received.append("\n".join(lines))
                    data_mode, lines = False, []
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line[1:] if line.startswith("..") else line)
                continue
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-test\r\n250 8BITMIME\r\n")
            elif verb == "DATA":
                data_mode = True
                self.wfile.write(b"354 go on\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _pending(to="claire@fabrikam.example"):
    return OutboxMessage.objects.create(
        created_at=now(),
        template="rejected",
        to_email=to,
        language="fr",
        context={"reference": "SR-SMTP-0001", "requester_name": "Claire", "reason": "Numéro injoignable"},
    )


def test_an_email_goes_out_over_smtp_with_both_parts(db, settings, smtp_server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_server.server_address
    settings.EMAIL_USE_TLS = False
    message = _pending()
    outbox_deliver_message(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "sent"
    assert len(smtp_server.received) == 1
    raw = smtp_server.received[0]
    assert "To: claire@fabrikam.example" in raw
    assert "text/plain" in raw and "text/html" in raw
    assert mail.outbox == []


def test_an_smtp_outage_keeps_the_email_pending_for_a_retry(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    settings.EMAIL_TIMEOUT = 2
    message = _pending()
    with pytest.raises(OSError):
        outbox_deliver_message(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "pending" and message.attempts == 1 and "Connection" in message.last_error


def test_a_failing_email_is_retried_with_a_growing_backoff_not_every_minute(db, settings):
    from datetime import timedelta

    from notifications.services import outbox_resend_pending, resend_backoff
    from portal.clock import travel

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    message = _pending()
    for _ in range(4):
        with pytest.raises(OSError):
            outbox_deliver_message(message_id=message.pk)
    message.refresh_from_db()
    assert message.attempts == 4 and message.status == "pending"
    assert resend_backoff(4) == timedelta(minutes=8)
    with travel(timedelta(minutes=5)):
        assert outbox_resend_pending() == 0, "not yet: the backoff after 4 attempts is 8 minutes"
    with travel(timedelta(minutes=9)):
        assert outbox_resend_pending() == 1


def test_a_template_error_counts_as_an_attempt(db):
    message = OutboxMessage.objects.create(created_at=now(), template="no_such_template", to_email="x@example.org")
    with pytest.raises(TemplateDoesNotExist):
        outbox_deliver_message(message_id=message.pk)
    message.refresh_from_db()
    assert message.attempts == 1 and "no_such_template" in message.last_error
