"""The transactional outbox: rows written with the change, delivered by Celery after commit.

Delivery is at least once, and every copy of one message carries the same Message-ID
(``<outbox-{id}@{OUTBOX_MESSAGE_ID_DOMAIN}>``), so that a recipient's mail system can drop a duplicate:

1. claim the row in a short transaction of its own (``sending``, one attempt counted);
2. send it with no transaction open and no row locked;
3. record the outcome in a second short transaction: ``sent``, or back to ``pending`` with a backoff.

A process that dies between the SMTP server's "250 queued" and step 3 leaves the row claimed; once the
claim is OUTBOX_CLAIM_TIMEOUT old, beat hands it to a worker again, which sends the same message again.
"""

import logging
import smtplib
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from audit.actions import AuditAction
from audit.services import Actor, audit_event_record
from portal.clock import now
from portal.errors import DomainError

from .models import OutboxMessage
from .signals import outbox_failed

logger = logging.getLogger(__name__)

# Set in a failed row's context when its secrets were erased: sending it again would send it without them.
SECRETS_ERASED = "_secrets_erased"

Status = OutboxMessage.Status
# The email telling supervisors that another one failed for good (never itself the subject of one).
FAILURE_ALERT_TEMPLATE = "outbox_failed"


def outbox_enqueue(*, template: str, to_email: str, language: str = "en", context=None, secrets=None, target=None) -> OutboxMessage:
    """Write one pending email in the caller's transaction and enqueue its delivery on commit.

    If the broker is down (or hangs) at commit time the row stays pending and the periodic
    ``outbox_resend_pending`` task sends it OUTBOX_RESEND_AFTER later: nothing is lost.
    """
    moment = now()
    message = OutboxMessage.objects.create(
        created_at=moment,
        next_attempt_at=moment + settings.OUTBOX_RESEND_AFTER,
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


# --- Hand-off to the broker ------------------------------------------------------------------------------------------

# Broker URL → time.monotonic() before which this process skips on-commit hand-offs: after one failed (the
# broker down, or accepting and never answering), later requests do not each wait for its timeout.
_broker_paused_until: dict[str, float] = {}


def _hand_off(task, args: list, *, what: str, pause: bool) -> bool:
    url = str(task.app.conf.broker_url)
    if pause and time.monotonic() < _broker_paused_until.get(url, 0.0):
        logger.info("broker paused after a failed hand-off: %s stays pending for beat", what)
        return False
    try:
        task.apply_async(args=args, retry=False)
    except Exception as exc:  # noqa: BLE001  (kombu raises several unrelated types when the broker is away)
        _broker_paused_until[url] = time.monotonic() + settings.OUTBOX_BROKER_PAUSE.total_seconds()
        logger.warning("broker unavailable (%r): %s stays pending", exc, what)
        return False
    _broker_paused_until.pop(url, None)
    return True


def outbox_dispatch(*, message_id: int) -> bool:
    """Hand one message to the broker (on commit, inside the request). Never raises, never waits long:
    every broker call is bounded (CELERY_BROKER_TRANSPORT_OPTIONS), and after a failure the process skips
    hand-offs for OUTBOX_BROKER_PAUSE; a message not handed off stays pending for beat."""
    from .tasks import outbox_deliver  # tasks import this module: a real cycle, broken here

    return _hand_off(outbox_deliver, [message_id], what=f"outbox message {message_id}", pause=True)


def outbox_dispatch_batch(*, message_ids: Sequence[int]) -> bool:
    """Hand a batch of messages to one delivery task (one SMTP connection). Never raises."""
    from .tasks import outbox_deliver_batch  # tasks import this module: a real cycle, broken here

    return _hand_off(outbox_deliver_batch, [list(message_ids)], what=f"{len(message_ids)} outbox messages", pause=False)


# --- Rendering -----------------------------------------------------------------------------------------------------


def render_message(message: OutboxMessage) -> tuple[str, str, str]:
    """Subject, text and HTML parts of a message, in the recipient's language."""
    context = {**message.context, **message.secrets, "site_url": settings.SITE_URL}
    base = f"notifications/email/{message.template}"
    with translation.override(message.language):
        subject = " ".join(render_to_string(f"{base}.subject.txt", context, using="text").split())
        text = render_to_string(f"{base}.txt", context, using="text").strip() + "\n"
        html = render_to_string("notifications/email/base.html", {**context, "subject": subject, "body_text": text})
    return subject, text, html


def message_id_header(message: OutboxMessage) -> str:
    """The Message-ID of every copy of ``message``: stable, so that a duplicate can be recognised."""
    return f"<outbox-{message.pk}@{settings.OUTBOX_MESSAGE_ID_DOMAIN}>"


def _email(message: OutboxMessage, connection) -> EmailMultiAlternatives:
    subject, text, html = render_message(message)
    email = EmailMultiAlternatives(
        subject,
        text,
        settings.DEFAULT_FROM_EMAIL,
        [message.to_email],
        connection=connection,
        headers={"Message-ID": message_id_header(message)},
    )
    email.attach_alternative(html, "text/html")
    return email


# --- Delivery: claim, send, record -----------------------------------------------------------------------------------


def resend_backoff(attempts: int) -> timedelta:
    """How long a pending message waits after its last attempt: 1, 2, 4 … minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def retry_delay(attempts: int) -> timedelta:
    """The wait after a failed try: the backoff, never less than OUTBOX_RESEND_AFTER."""
    return max(resend_backoff(attempts), settings.OUTBOX_RESEND_AFTER)


def _due(message: OutboxMessage, moment: datetime) -> bool:
    if message.status == Status.PENDING and message.attempts == 0:
        return True  # never tried: its on-commit hand-off
    return message.next_attempt_at is not None and message.next_attempt_at <= moment


def outbox_claim(*, message_id: int) -> OutboxMessage | None:
    """Claim one due message for sending, in a short transaction; None if it is not to be sent now.

    A pending row is due if never tried, or once its backoff is over; a row claimed more than
    OUTBOX_CLAIM_TIMEOUT ago (its sender died or hung) is due again. A row locked by another claimer, sent,
    failed or not yet due is left alone: however many copies of a delivery task are queued, each real try
    of the SMTP server counts one attempt. Idempotent.
    """
    moment = now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status__in=[Status.PENDING, Status.SENDING])
            .first()
        )
        if message is None or not _due(message, moment):
            return None
        if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:  # its last try's claim expired unrecorded
            message.last_error = message.last_error or "the last attempt never reported back"
            _give_up(message)
            return None
        message.status = Status.SENDING
        message.attempts += 1
        message.last_attempt_at = moment
        message.claimed_at = moment
        message.next_attempt_at = moment + settings.OUTBOX_CLAIM_TIMEOUT
        message.save(update_fields=["status", "attempts", "last_attempt_at", "claimed_at", "next_attempt_at"])
    return message


def _record_sent(message: OutboxMessage, subject: str) -> None:
    # One UPDATE, its own short transaction. Sent is final, whoever holds the claim now.
    OutboxMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.SENT,
        sent_at=now(),
        subject=subject[:300],
        secrets={},
        last_error="",
        claimed_at=None,
        next_attempt_at=None,
    )


def _record_failure(message: OutboxMessage, error: BaseException) -> None:
    logger.warning("outbox message %s, attempt %s failed: %r", message.pk, message.attempts, error)
    with transaction.atomic():
        row = (
            OutboxMessage.objects.select_for_update()
            .filter(pk=message.pk, status=Status.SENDING, claimed_at=message.claimed_at)
            .first()
        )
        if row is None:  # our claim expired and another worker holds it now: its outcome counts
            return
        row.last_error = repr(error)[:2000]
        row.claimed_at = None
        if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            _give_up(row)
            return
        row.status = Status.PENDING
        row.next_attempt_at = now() + retry_delay(row.attempts)
        row.save(update_fields=["last_error", "claimed_at", "status", "next_attempt_at"])


def _give_up(message: OutboxMessage) -> None:
    """Mark ``message`` failed for good and tell whoever listens (inside the caller's transaction).

    Its secrets (a set-password link, a reset code) are erased: a link nobody received must not wait in
    the database; the person asks for a new one.
    """
    message.status = Status.FAILED
    message.next_attempt_at = None
    message.claimed_at = None
    if message.secrets:
        message.secrets = {}
        message.context = {**message.context, SECRETS_ERASED: True}
    message.save(update_fields=["status", "next_attempt_at", "claimed_at", "last_error", "secrets", "context"])
    logger.error(
        "outbox message %s (%s to %s) failed for good after %s attempts: %s",
        message.pk,
        message.template,
        message.to_email,
        message.attempts,
        message.last_error,
    )
    if message.template != FAILURE_ALERT_TEMPLATE:
        outbox_failed.send(sender=OutboxMessage, message=message)


def _message_only(error: BaseException) -> bool:
    """Whether the SMTP server refused this one message but the connection is still good for the next."""
    return isinstance(error, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused | smtplib.SMTPDataError)


def outbox_deliver_messages(*, message_ids: Sequence[int]) -> int:
    """Send each due message of ``message_ids`` over one SMTP connection; returns how many were sent.

    Each message is claimed, sent with no transaction open, then recorded (module docstring). A failure
    to render, or a refusal of one message by the server, is recorded on that row and the batch goes on;
    any other failure (connection refused, timed out, the task's time limit) is recorded on the row being
    sent and ends the batch: the rows not reached were not tried and stay due. The first error is
    re-raised at the end, so that the worker logs it. Idempotent: rows sent or not due are skipped.
    """
    smtp = get_connection()
    opened = False
    sent = 0
    first_error: BaseException | None = None
    try:
        for message_id in message_ids:
            message = outbox_claim(message_id=message_id)
            if message is None:
                continue
            try:
                email = _email(message, smtp)
            except Exception as exc:  # noqa: BLE001  (a template error is this message's problem only)
                _record_failure(message, exc)
                first_error = first_error or exc
                continue
            try:
                if not opened:
                    smtp.open()  # opened by us, so that send() leaves it open for the next message
                    opened = True
                email.send()
            except Exception as exc:  # noqa: BLE001  (any failure to send is recorded on the row, then re-raised)
                _record_failure(message, exc)
                first_error = first_error or exc
                if not _message_only(exc):
                    break
            else:
                _record_sent(message, str(email.subject))
                sent += 1
    finally:
        if opened:
            smtp.close()
    if first_error is not None:
        raise first_error
    return sent


def outbox_deliver_message(*, message_id: int) -> OutboxMessage | None:
    """Send one message if it is due (``outbox_deliver_messages`` with one id); returns the row as it is now."""
    outbox_deliver_messages(message_ids=[message_id])
    return OutboxMessage.objects.filter(pk=message_id).first()


# --- Beat ------------------------------------------------------------------------------------------------------------


def outbox_resend_pending() -> int:
    """Hand the due messages to the workers, oldest due first, in batches of OUTBOX_BATCH_SIZE (at most
    OUTBOX_RESEND_LIMIT a run). Returns how many were handed to the broker; stops at the first hand-off
    that fails (the rest stays due for the next run).

    Due: never handed off OUTBOX_RESEND_AFTER after it was written (the broker was down at commit), a
    failed try's backoff over, or a claim expired. ``next_attempt_at`` says when, and is indexed for the
    rows still to send, so that due rows are found first however many are waiting.
    """
    due = list(
        OutboxMessage.objects.filter(status__in=[Status.PENDING, Status.SENDING], next_attempt_at__lte=now())
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[: settings.OUTBOX_RESEND_LIMIT]
    )
    handed = 0
    for start in range(0, len(due), settings.OUTBOX_BATCH_SIZE):
        batch = due[start : start + settings.OUTBOX_BATCH_SIZE]
        if not outbox_dispatch_batch(message_ids=batch):
            break
        handed += len(batch)
    return handed


# --- Supervisors ---------------------------------------------------------------------------------------------------


def outbox_failure_alert(*, failed: OutboxMessage, to_email: str, language: str) -> OutboxMessage:
    """Tell ``to_email`` that ``failed`` will not be sent, with a link to the admin where it can be sent
    again. Called by receivers of ``notifications.signals.outbox_failed``, in its transaction."""
    return outbox_enqueue(
        template=FAILURE_ALERT_TEMPLATE,
        to_email=to_email,
        language=language,
        context={
            "failed_template": failed.template,
            "failed_to": failed.to_email,
            "created": failed.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            "attempts": failed.attempts,
            "last_error": failed.last_error[:300],
            "admin_url": settings.SITE_URL + reverse("admin:notifications_outboxmessage_change", args=[failed.pk]),
        },
        target=failed,
    )


def outbox_message_retry(*, message_id: int, actor: Actor) -> OutboxMessage:
    """Give a failed message a new round of attempts, now (a supervisor's "send again").

    Atomic: the row goes back to pending with no attempt counted, an ``outbox.retried`` audit event is
    written, and the message is handed to the broker after commit. A message that has not failed is
    refused (DomainError).
    """
    with transaction.atomic(durable=True):
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != Status.FAILED:
            raise DomainError(_("Only an email that failed can be sent again."))
        if message.context.get(SECRETS_ERASED):
            raise DomainError(
                _("This email carried a link or a code, erased when it failed: ask the person to request a new one instead.")
            )
        before = {"status": message.status, "attempts": message.attempts, "last_error": message.last_error[:300]}
        message.status = Status.PENDING
        message.attempts = 0
        message.next_attempt_at = now() + settings.OUTBOX_RESEND_AFTER
        message.save(update_fields=["status", "attempts", "next_attempt_at"])
        audit_event_record(
            actor=actor,
            action=AuditAction.OUTBOX_RETRIED,
            target=message,
            before=before,
            after={"status": message.status, "attempts": 0},
        )
        transaction.on_commit(lambda: outbox_dispatch(message_id=message.pk))
    return message


def outbox_prune_sent(*, batch: int = 2000) -> int:
    """Beat (daily): delete sent rows older than OUTBOX_SENT_RETENTION, in batches (bounded memory).

    What a sent email said is no longer needed once it is delivered and its retention has passed; the
    audit log keeps what happened. Returns how many rows were deleted.
    """
    cutoff = now() - settings.OUTBOX_SENT_RETENTION
    deleted = 0
    while True:
        ids = list(OutboxMessage.objects.filter(status=Status.SENT, sent_at__lt=cutoff).values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += OutboxMessage.objects.filter(pk__in=ids).delete()[0]
