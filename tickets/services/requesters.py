"""What a requester does: file, confirm the email, follow, answer, cancel."""

import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import KombuError

from audit.services import Actor, ActorKind, RequestMeta, audit_event_record
from notifications.services import outbox_enqueue
from portal.clock import now
from portal.errors import StrOrPromise

from .. import tokens
from ..dns_proof import Lookup
from ..evidence import evidence_check, sha256_of
from ..models import CheckKind, CheckOutcome, Elevation, Evidence, Message, ServiceRequest, Status
from ..notify import to_requester, to_users, tracking_url
from ..policy import CLOSED, DEPENDS_ON_REQUESTER, REVIEW_SETTLED
from ..selectors import requester_can_reply, support_agents
from ..workflow import REQUESTER, DomainError, transition
from .checks import check_write, checks_void
from .domain_proof import domain_proof_look_up
from .objections import objections_withdraw

logger = logging.getLogger(__name__)


def _requester(sr: ServiceRequest, meta: RequestMeta | None) -> Actor:
    return Actor(kind=ActorKind.REQUESTER, label=f"requester <{sr.requester_email}>", meta=meta or RequestMeta())


def _store_evidence(sr: ServiceRequest, uploads: Sequence[UploadedFile], message: Message | None = None) -> list[Evidence]:
    stored = []
    for upload in uploads:
        mime = evidence_check(upload)
        stored.append(
            Evidence.objects.create(
                service_request=sr,
                message=message,
                file=upload,
                original_name=(upload.name or "")[:255],
                content_type=mime,
                size=upload.size or 0,
                sha256=sha256_of(upload),
            )
        )
    return stored


def service_request_submit(
    *, data: dict[str, Any], uploads: Sequence[UploadedFile] = (), language: str = "en", meta: RequestMeta | None = None
) -> ServiceRequest:
    """File a request in ``awaiting_email_confirmation`` and email a single-use confirmation link.

    Atomic: the request, its evidence, a ``request.filed`` audit event and the outbox row
    are written together. ``data`` holds the form's cleaned fields (model field names).
    """
    raw, digest = tokens.new_token()
    with transaction.atomic(durable=True):
        for _attempt in range(5):
            try:
                with transaction.atomic():  # a savepoint: a reference collision retries, nothing else is lost
                    sr = ServiceRequest.objects.create(
                        reference=tokens.new_reference(),
                        language=language,
                        confirmation_token_hash=digest,
                        dns_challenge=tokens.new_dns_challenge(),
                        consent_given_at=now(),
                        submitted_ip=getattr(meta, "ip_address", None),
                        **data,
                    )
                break
            except IntegrityError:  # reference collision: astronomically rare, try another
                continue
        else:
            raise DomainError("could not allocate a reference")
        _store_evidence(sr, uploads)
        audit_event_record(
            actor=_requester(sr, meta), action="request.filed", target=sr, after={"reference": sr.reference, "evidence": len(uploads)}
        )
        confirm_url = settings.SITE_URL + reverse("tickets:confirm", args=[sr.reference]) + f"?token={raw}"
        outbox_enqueue(
            template="confirm_email",
            to_email=sr.requester_email,
            language=language,
            context={
                "reference": sr.reference,
                "requester_name": sr.requester_name,
                "hours": int(settings.SERVICE_REQUEST_CONFIRMATION_WINDOW.total_seconds() // 3600),
            },
            secrets={"confirm_url": confirm_url},
            target=sr,
        )
    return sr


def service_request_confirm_email(*, reference: str, token: str, meta: RequestMeta | None = None) -> tuple[ServiceRequest, str]:
    """Confirm the work email with the single-use link; the request enters the queue (``new``).

    Returns the request and the raw tracking token (emailed too). Raises DomainError for a wrong,
    used or expired link, with the same message in each case.
    """
    invalid = DomainError(_invalid_link_message())
    with transaction.atomic(durable=True):
        sr = ServiceRequest.objects.select_for_update().filter(reference=reference.upper()).first()
        if sr is not None and _confirmation_used(sr, token):
            raise AlreadyConfirmed(_("This request is already confirmed."))
        if sr is None or not tokens.matches(token, sr.confirmation_token_hash):
            raise invalid
        if sr.status != Status.AWAITING_EMAIL_CONFIRMATION or (now() > sr.created_at + settings.SERVICE_REQUEST_CONFIRMATION_WINDOW):
            raise invalid
        raw, digest = tokens.new_token()
        # Single use: the digest is replaced by one that no longer confirms anything, but lets a second
        # opening of the same link say "already confirmed" rather than "not valid" (which invites a new request).
        sr.confirmation_token_hash = _used_marker(digest=tokens.digest(token))
        sr.tracking_token_hash = digest
        sr.save(update_fields=["confirmation_token_hash", "tracking_token_hash"])
        actor = _requester(sr, meta)
        check_write(
            service_request=sr,
            kind=CheckKind.EMAIL_CONFIRMED,
            outcome=CheckOutcome.PASSED,
            note="Confirmed automatically by the emailed link.",
            actor=actor,
        )
        transition(sr, Status.NEW, actor=actor, role=REQUESTER, secrets={"tracking_token": raw})
    return sr, raw


class AlreadyConfirmed(DomainError):
    """The confirmation link was used already: the request is in the queue and its tracking link was emailed."""


def _used_marker(*, digest: str) -> str:
    return tokens.digest("used:" + digest)


def _confirmation_used(sr: ServiceRequest, token: str | None) -> bool:
    return bool(token) and tokens.matches("used:" + tokens.digest(token or ""), sr.confirmation_token_hash)


def service_request_confirmation_used(*, reference: str, token: str | None) -> bool:
    """Whether ``token`` is the confirmation link of ``reference``, already used. Reads only."""
    sr = ServiceRequest.objects.filter(reference=(reference or "").upper()[:32]).first()
    return sr is not None and _confirmation_used(sr, token)


def _invalid_link_message() -> StrOrPromise:
    return _("This link is not valid: it may have expired or already been used.")


def service_request_for_token(*, reference: str, token: str | None) -> ServiceRequest | None:
    """The request this tracking token opens, or None (wrong token, unknown reference, link expired)."""
    sr = ServiceRequest.objects.filter(reference=(reference or "").upper()).first()
    if sr is None or not tokens.matches(token, sr.tracking_token_hash) or _tracking_expired(sr):
        return None
    return sr


def _tracking_expired(sr: ServiceRequest) -> bool:
    """Private links die a while after the request closes."""
    return bool(sr.status in CLOSED and sr.closed_at and now() > sr.closed_at + settings.SERVICE_REQUEST_TRACKING_GRACE)


@transaction.atomic(durable=True)
def service_request_send_tracking_link(*, reference: str, email: str, meta: RequestMeta | None = None) -> None:
    """Email a fresh private link if ``email`` is the request's; otherwise do nothing, silently.

    The old tracking link stops working. Writes ``tracking_link.reissued``.
    """
    sr = ServiceRequest.objects.select_for_update().filter(reference=(reference or "").strip().upper()).first()
    if sr is None or sr.requester_email.lower() != (email or "").strip().lower() or not sr.tracking_token_hash:
        return
    if _tracking_expired(sr):
        return
    raw, digest = tokens.new_token()
    sr.tracking_token_hash = digest
    sr.save(update_fields=["tracking_token_hash"])
    audit_event_record(actor=_requester(sr, meta), action="tracking_link.reissued", target=sr)
    to_requester(sr, "tracking_link", secrets={"tracking_url": tracking_url(sr, raw)})


def service_request_requester_reply(
    *, service_request: ServiceRequest, body: str, uploads: Sequence[UploadedFile] = (), meta: RequestMeta | None = None
) -> Message:
    """Add the requester's public reply (with attachments). A request waiting on them goes back to review.

    After verification and before approval, what the requester sends changes what is being reviewed:
    the request goes back to review, an unapproved proposal is dropped, and the checks that rest on the
    requester's evidence (identity, company details, former admin gone) are voided, the timeline saying
    why. Once approved, the elevation is fixed: the requester may still write, but not add files.
    """
    with transaction.atomic(durable=True):
        sr = ServiceRequest.objects.select_for_update().get(pk=service_request.pk)
        if not requester_can_reply(sr):
            raise DomainError(_closed_message())
        if uploads and sr.status in (Status.COOLING_OFF, Status.DISPUTED):
            raise DomainError(
                _("The change of administrator is already approved: files can no longer be added. You can still write to support.")
            )
        actor = _requester(sr, meta)
        message = Message.objects.create(service_request=sr, kind=Message.Kind.PUBLIC, from_requester=True, body=body)
        _store_evidence(sr, uploads, message=message)
        audit_event_record(actor=actor, action="message.requester", target=sr, after={"attachments": len(uploads)})
        if sr.status == Status.WAITING_ON_REQUESTER:
            transition(sr, Status.IN_REVIEW, actor=actor, role=REQUESTER)
        elif sr.status in REVIEW_SETTLED:
            what = "new evidence" if uploads else "a reply"
            voided = checks_void(
                service_request=sr, kinds=DEPENDS_ON_REQUESTER, actor=actor, reason=f"The requester sent {what} after verification."
            )
            Elevation.objects.filter(service_request=sr, approved_at__isnull=True).delete()
            transition(
                sr,
                Status.IN_REVIEW,
                actor=actor,
                role=REQUESTER,
                note=f"The requester sent {what} after verification; to check again: {', '.join(voided) or 'none'}.",
            )
        else:
            to_users([sr.assignee] if sr.assignee else support_agents(), sr, "requester_replied")
    return message


def _closed_message() -> StrOrPromise:
    return _("This request is closed; it can no longer be changed.")


def service_request_cancel(*, service_request: ServiceRequest, meta: RequestMeta | None = None) -> ServiceRequest:
    """The requester withdraws an open request (``cancelled``); the objections to a disputed one are closed
    and their authors told."""
    actor = _requester(service_request, meta)
    with transaction.atomic():
        sr = ServiceRequest.objects.select_for_update().get(pk=service_request.pk)
        if sr.status == Status.DISPUTED:
            objections_withdraw(service_request=sr, actor=actor)
        return transition(service_request, Status.CANCELLED, actor=actor, role=REQUESTER)


@transaction.atomic
def evidence_open(*, evidence: Evidence, actor: Actor) -> Evidence:
    """Record that a staff member opened an evidence file (``evidence.viewed``) before it is served."""
    audit_event_record(
        actor=actor,
        action="evidence.viewed",
        target=evidence.service_request,
        tenant=evidence.service_request.tenant,
        after={"evidence": evidence.pk, "name": evidence.original_name},
    )
    return evidence


def service_request_check_domain(*, service_request: ServiceRequest, meta: RequestMeta | None = None) -> Lookup:
    """The requester's "check now" on the tracking page: look the DNS proof up at once (audited)."""
    return domain_proof_look_up(service_request=service_request, actor=_requester(service_request, meta))


def tracking_link_requested(*, reference: str, email: str, meta: RequestMeta | None = None) -> None:
    """The "lost your link?" form: hand the lookup to a worker and return at once, whether or not the
    reference and email match, so that the page answers in the same time for both. A broker outage is
    logged; nothing was promised but an email "if it matches", and the person can ask again."""
    from ..tasks import tracking_link_send  # tasks import the services: a real cycle, broken here

    meta = meta or RequestMeta()
    try:
        tracking_link_send.apply_async(args=[reference, email, meta.ip_address, meta.user_agent], retry=False)
    except (OSError, KombuError):  # the broker is away or does not answer in time
        logger.warning("broker unavailable: a tracking-link request was not handed over", exc_info=True)
