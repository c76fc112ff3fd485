"""The transactional outbox: rows written with the change, delivered by Celery after commit."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import translation

from portal.clock import now

from .models import OutboxMessage

logger = logging.getLogger(__name__)


def outbox_enqueue(*, template: str, to_email: str, language: str = "en", context=None, secrets=None, target=None) -> OutboxMessage:
    """Write one pending email in the caller's transaction and enqueue its delivery on commit.

    If the broker is down at commit time the row stays pending and the periodic
    ``outbox_resend_pending`` task sends it later: nothing is lost.
    """
    message = OutboxMessage.objects.create(
        created_at=now(),
        template=template,
        to_email=to_email,
        language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
        context=context or {},
        secrets=secrets or {},
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
    )
    transaction.on_commit(lambda: outbox_dispatch(message_id=message.pk))
    return message


def outbox_dispatch(*, message_id: int) -> bool:
    """Hand one message to the broker. Never raises: a broker outage leaves the row pending."""
    from .tasks import outbox_deliver  # tasks import this module: a real cycle, broken here

    try:
        outbox_deliver.apply_async(args=[message_id], retry=False)
    except Exception as exc:  # noqa: BLE001  (kombu raises several unrelated types when the broker is away)
        logger.warning("broker unavailable (%r): outbox message %s stays pending", exc, message_id)
        return False
    return True


def render_message(message: OutboxMessage) -> tuple[str, str, str]:
    """Subject, text and HTML parts of a message, in the recipient's language."""
    context = {**message.context, **message.secrets, "site_url": settings.SITE_URL}
    base = f"notifications/email/{message.template}"
    with translation.override(message.language):
        subject = " ".join(render_to_string(f"{base}.subject.txt", context, using="text").split())
        text = render_to_string(f"{base}.txt", context, using="text").strip() + "\n"
        html = render_to_string("notifications/email/base.html", {**context, "subject": subject, "body_text": text})
    return subject, text, html


def outbox_deliver_message(*, message_id: int) -> OutboxMessage | None:
    """Send one message exactly once as far as the database can tell (idempotent).

    The row is locked while sending so that two workers never send it twice; a sent
    row is left alone. A failure to render or send is recorded on the row (``attempts``,
    ``last_error``; ``failed`` after OUTBOX_MAX_ATTEMPTS) and re-raised so that the worker
    logs it, but the task does not retry it (it retries only database errors): the row
    stays pending and beat's ``outbox_resend_pending`` sends it again after a growing
    backoff (``resend_backoff``).
    """
    error = None
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=message_id).first()
        if message is None or message.status != OutboxMessage.Status.PENDING:
            return message
        message.attempts += 1
        message.last_attempt_at = now()
        try:
            subject, text, html = render_message(message)
            email = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [message.to_email])
            email.attach_alternative(html, "text/html")
            email.send()
        except Exception as exc:  # noqa: BLE001  (any failure to render or send is recorded on the row, then re-raised)
            error = exc
            message.last_error = repr(exc)[:2000]
            if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                message.status = OutboxMessage.Status.FAILED
        else:
            message.status = OutboxMessage.Status.SENT
            message.sent_at = now()
            message.subject = subject[:300]
            message.secrets = {}
            message.last_error = ""
        message.save()
    if error is not None:
        raise error
    return message


def resend_backoff(attempts: int) -> timedelta:
    """How long a pending message waits after its last attempt: 1, 2, 4 … minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def outbox_resend_pending() -> int:
    """Re-dispatch stuck pending messages. Returns how many were handed to the broker.

    A message never attempted is stuck once older than OUTBOX_RESEND_AFTER (the broker was down at
    commit); one that failed waits a growing backoff, so that a long SMTP outage spends its
    attempts over about a day instead of minutes.
    """
    moment = now()
    candidates = (
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
        .filter(
            Q(last_attempt_at__isnull=True, created_at__lte=moment - settings.OUTBOX_RESEND_AFTER)
            | Q(last_attempt_at__isnull=False, last_attempt_at__lte=moment - settings.OUTBOX_RESEND_AFTER)
        )
        .order_by("created_at")
        .values_list("pk", "attempts", "last_attempt_at")[:5000]
    )
    due = [pk for pk, attempts, last in candidates if last is None or last <= moment - resend_backoff(attempts)]
    return sum(1 for pk in due[:500] if outbox_dispatch(message_id=pk))
