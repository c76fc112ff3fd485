"""Bench data: service requests in every status, each with the history that led there.

Every status of ``Status`` is used (the first requests take each in turn, the rest follow a realistic
mix), and each request's path from filing is checked against the state machine's table. The data is
quiet for beat: unconfirmed requests are younger than the confirmation window, requests where checks may
be recorded are older than the DNS look-up period, overdue ones were already alerted, and waiting
periods end in the future, so that a bench measures the load it sends, not beat catching up.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from notifications.models import OutboxMessage

from ..models import CheckKind, CheckOutcome, Elevation, Message, Objection, ServiceRequest, Status, VerificationCheck
from ..policy import CLOSED, SLA_RUNNING
from ..tokens import REFERENCE_ALPHABET
from ..workflow import TRANSITIONS
from .people import USER_AGENTS, People, ip

S = Status
# How a request reaches each status from filing.
_REVIEW: list[str] = [S.NEW, S.IN_REVIEW]
_PROPOSED: list[str] = [*_REVIEW, S.VERIFIED, S.ELEVATION_PROPOSED]
PATHS: dict[str, list[str]] = {
    S.AWAITING_EMAIL_CONFIRMATION: [],
    S.EXPIRED: [S.EXPIRED],
    S.NEW: [S.NEW],
    S.IN_REVIEW: _REVIEW,
    S.WAITING_ON_REQUESTER: [*_REVIEW, S.WAITING_ON_REQUESTER],
    S.VERIFIED: [*_REVIEW, S.VERIFIED],
    S.ELEVATION_PROPOSED: _PROPOSED,
    S.COOLING_OFF: [*_PROPOSED, S.COOLING_OFF],
    S.DISPUTED: [*_PROPOSED, S.COOLING_OFF, S.DISPUTED],
    S.ELEVATED: [*_PROPOSED, S.COOLING_OFF, S.ELEVATED],
    S.REJECTED: [*_REVIEW, S.REJECTED],
    S.CANCELLED: [S.NEW, S.CANCELLED],
}
# A queue as support sees it after a few years: mostly closed, a working backlog.
WEIGHTS = {
    S.AWAITING_EMAIL_CONFIRMATION: 3, S.NEW: 5, S.IN_REVIEW: 8, S.WAITING_ON_REQUESTER: 5, S.VERIFIED: 4,
    S.ELEVATION_PROPOSED: 3, S.COOLING_OFF: 3, S.DISPUTED: 2, S.ELEVATED: 35, S.REJECTED: 14, S.CANCELLED: 8,
    S.EXPIRED: 10,
}  # fmt: skip
REVIEWED = frozenset(s for s, path in PATHS.items() if S.IN_REVIEW in path)
PROPOSED = frozenset(s for s, path in PATHS.items() if S.ELEVATION_PROPOSED in path)
CHECKED = (CheckKind.IDENTITY_EVIDENCE, CheckKind.CALLBACK_ON_RECORD, CheckKind.COMPANY_DETAILS, CheckKind.FORMER_ADMIN_GONE)
SR = "tickets.servicerequest"
# The email the requester gets on entering the status (tickets.notify).
TEMPLATES: dict[str, str] = {
    S.NEW: "request_received", S.ELEVATED: "elevated_requester", S.REJECTED: "rejected", S.DISPUTED: "request_on_hold",
}  # fmt: skip
_REFERENCE_SPACE = len(REFERENCE_ALPHABET) ** 8


def _check_paths() -> None:
    for status, path in PATHS.items():
        steps = list(zip([S.AWAITING_EMAIL_CONFIRMATION, *path], path, strict=False))
        for step in steps:
            if step not in TRANSITIONS:
                raise AssertionError(f"bench path to {status}: {step} is not in the state machine")
    if set(PATHS) != set(Status) or set(WEIGHTS) != set(Status):
        raise AssertionError("bench data must cover every status")


def reference(pk: int) -> str:
    """An ``SR-XXXX-XXXX`` reference from the id: a bijection (the factor is prime to 30), so never a repeat."""
    value, chars = (pk * 1_000_003 + 7_654_321) % _REFERENCE_SPACE, []
    for _ in range(8):
        value, digit = divmod(value, len(REFERENCE_ALPHABET))
        chars.append(REFERENCE_ALPHABET[digit])
    return f"SR-{''.join(chars[:4])}-{''.join(chars[4:])}"


@dataclass
class Batch:
    requests: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)
    elevations: list[dict] = field(default_factory=list)
    objections: list[dict] = field(default_factory=list)
    outbox: list[dict] = field(default_factory=list)


class RequestMaker:
    """Builds one request, its thread, checks, elevation, objection, emails and audit events."""

    def __init__(self, *, rng: random.Random, people: People, moment: datetime, events: list):
        _check_paths()
        self.rng, self.people, self.moment, self.events = rng, people, moment, events
        self.statuses, self.weights = list(WEIGHTS), list(WEIGHTS.values())

    def status_for(self, index: int) -> str:
        return list(Status)[index] if index < len(Status) else self.rng.choices(self.statuses, self.weights)[0]

    def _filed_at(self, status: str) -> datetime:
        r, now = self.rng, self.moment
        if status == S.AWAITING_EMAIL_CONFIRMATION:
            return now - settings.SERVICE_REQUEST_CONFIRMATION_WINDOW / 2 * r.random() - timedelta(minutes=5)
        if status in (S.NEW, S.IN_REVIEW, S.WAITING_ON_REQUESTER, S.VERIFIED):  # out of the DNS look-up period
            return now - settings.DOMAIN_PROOF_LOOKUP_FOR - timedelta(days=1 + r.random() * 300)
        if status in (S.COOLING_OFF, S.DISPUTED):
            return now - timedelta(days=3 + r.random() * 20)
        return now - timedelta(days=2 + r.random() * 700)

    def _event(self, at, actor, action, pk, tenant_id, before=None, after=None, meta=(None, "")):
        actor_id, label = actor
        self.events.append((at, actor_id, label, action, SR, pk, tenant_id, before or {}, after or {}, meta[0], meta[1]))

    def add(self, batch: Batch, index: int, pk: int) -> None:
        r, people = self.rng, self.people
        status = self.status_for(index)
        path = PATHS[status]
        filed = self._filed_at(status)
        # Steps spread over a few days after filing; a waiting period's approval is recent (ends in the future).
        span = min(self.moment - filed - timedelta(minutes=10), timedelta(days=r.uniform(0.5, 20)))
        times = sorted(filed + span * r.uniform(0.01, 1) for _ in path)
        tenant_index = r.randrange(len(people.tenant_ids))
        tenant = people.tenant_records[tenant_index]
        matched = status not in (S.AWAITING_EMAIL_CONFIRMATION, S.EXPIRED) and (status != S.NEW or r.random() < 0.6)
        first, last = r.choice(("Ana", "Bo", "Cy", "Di", "Ed")), r.choice(("Lee", "Roy", "Kay", "Fox"))
        domain = tenant["primary_domain"] if r.random() < 0.9 else f"unknown-{pk}.example"
        requester = f"{first.lower()}.{last.lower()}@{domain}"
        agent = r.choice(people.agents)
        supervisor = r.choice(people.supervisors)
        req_actor, req_meta = (None, f"requester {requester}"), (ip(r), r.choice(USER_AGENTS))
        tenant_id = tenant["id"] if matched else None
        last_at = times[-1] if times else filed
        row = {
            "id": pk, "reference": reference(pk), "category": "admin_left" if r.random() < 0.8 else "other_access",
            "status": status, "language": "fr" if r.random() < 0.2 else "en",
            "company_legal_name": tenant["legal_name"], "company_partner_id": tenant["partner_id"] if r.random() < 0.7 else "",
            "company_domain": domain, "company_country": tenant["country"], "company_address": tenant["postal_address"],
            "company_phone": tenant["phone_on_record"], "requester_name": f"{first} {last}", "requester_email": requester,
            "requester_phone": f"+33 6 {r.randint(10000000, 99999999)}", "requester_job_title": "IT manager",
            "former_admin_name": "Former Admin", "former_admin_email": f"former.{pk}@{domain}", "former_admin_reason": "left_company",
            "elevate_email": f"new.admin.{pk}@{domain}", "elevate_name": "New Admin",
            "reason": "Our only global admin left the company and we cannot manage our users.",
            "consent_given_at": filed, "tenant_id": tenant_id, "created_at": filed, "updated_at": last_at,
            "confirmation_token_hash": f"{r.getrandbits(256):064x}" if not path else "",
            "tracking_token_hash": f"{r.getrandbits(256):064x}", "submitted_ip": req_meta[0],
            "dns_challenge": f"escalation-portal-proof={r.getrandbits(128):032x}",
        }  # fmt: skip
        self._event(filed, req_actor, "request.filed", pk, None, after={"reference": row["reference"], "evidence": 0}, meta=req_meta)
        batch.outbox.append(self._email(filed, "confirm_email", requester, pk, sent=r.random() > 0.01))
        if matched:
            self._event(filed + timedelta(seconds=1), (None, "system"), "tenant.matched", pk, tenant_id, after={"tenant": tenant_id})
        if status in REVIEWED and status != S.CANCELLED:
            row["assignee_id"] = agent[0]
        previous: str = S.AWAITING_EMAIL_CONFIRMATION
        for step, at in zip(path, times, strict=True):
            who = self._who(step, req_actor, agent, supervisor, requester)
            meta = req_meta if who == req_actor else (None, "")
            self._event(at, who, "status.changed", pk, tenant_id, before={"status": previous}, after={"status": step}, meta=meta)
            previous = step
            if step == S.NEW:
                row["email_confirmed_at"] = at
                batch.checks.append(
                    {"service_request_id": pk, "kind": CheckKind.EMAIL_CONFIRMED, "outcome": CheckOutcome.PASSED, "created_at": at}
                )
            if step == S.IN_REVIEW:
                self._thread(batch, pk, tenant_id, at, agent, req_actor, req_meta)
            if step == S.VERIFIED:
                self._checks(batch, pk, tenant_id, at, agent, passed=True)
        if status == S.REJECTED:
            self._checks(batch, pk, tenant_id, last_at - timedelta(minutes=5), agent, passed=False)
            row["rejection_reason"] = "The call-back to the number on record did not confirm the request."
        if status in PROPOSED:
            self._elevation(batch, row, status, times, agent, supervisor, tenant_index)
        if status == S.DISPUTED:
            batch.objections.append(
                {"service_request_id": pk, "raised_by": f"admin@{domain}", "message": "I am still here.", "created_at": last_at}
            )
            self._event(last_at, (None, f"admin@{domain}"), "objection.raised", pk, tenant_id)
        if status in SLA_RUNNING:
            row["sla_due_at"] = last_at + settings.SERVICE_REQUEST_SLA
            if row["sla_due_at"] < self.moment:
                row["sla_alerted_at"] = row["sla_due_at"] + timedelta(minutes=5)
        if status in CLOSED:
            row["closed_at"] = last_at
        if path:
            batch.outbox.append(self._email(last_at, TEMPLATES.get(status, "status_changed"), requester, pk, sent=r.random() > 0.015))
        batch.requests.append(row)

    def _who(self, step, req_actor, agent, supervisor, requester):
        if step in (S.NEW, S.CANCELLED):
            return req_actor
        if step in (S.EXPIRED, S.ELEVATED):
            return (None, "system")
        if step == S.DISPUTED:
            return (None, f"objector {requester.split('@')[1]}")
        return supervisor if step == S.COOLING_OFF else agent

    def _thread(self, batch, pk, tenant_id, at, agent, req_actor, req_meta):
        for n in range(self.rng.choice((0, 1, 1, 2, 3))):
            # An agent's internal note, an agent's public reply, the requester's answer: their audit actions.
            action = ("message.internal", "message.public", "message.requester")[n % 3]
            from_requester = n % 3 == 2
            when = at + timedelta(hours=n + 1)
            body = "Called the number on record." if n % 3 == 0 else "Could you send a document showing your role?"
            batch.messages.append({
                "service_request_id": pk, "kind": Message.Kind.INTERNAL if n % 3 == 0 else Message.Kind.PUBLIC,
                "author_id": None if from_requester else agent[0], "from_requester": from_requester,
                "body": body, "created_at": when,
            })  # fmt: skip
            who, meta = (req_actor, req_meta) if from_requester else (agent, (None, ""))
            self._event(when, who, action, pk, tenant_id, meta=meta)

    def _checks(self, batch, pk, tenant_id, at, agent, *, passed: bool):
        for n, kind in enumerate(CHECKED if passed else CHECKED[1:2]):
            outcome = CheckOutcome.PASSED if passed else CheckOutcome.FAILED
            when = at - timedelta(minutes=10 * (len(CHECKED) - n))
            batch.checks.append(
                {"service_request_id": pk, "kind": kind, "outcome": outcome, "agent_id": agent[0], "note": "", "created_at": when}
            )
            self._event(when, agent, "check.recorded", pk, tenant_id, after={"check": kind, "outcome": outcome, "note": ""})

    def _elevation(self, batch, row, status, times, agent, supervisor, tenant_index):
        pk, path = row["id"], PATHS[status]
        proposed = times[path.index(S.ELEVATION_PROPOSED)]
        elevation = {
            "service_request_id": pk,
            "email": row["elevate_email"],
            "full_name": row["elevate_name"],
            "proposed_by_id": agent[0],
            "proposed_at": proposed,
        }
        self._event(proposed, agent, "elevation.proposed", pk, row["tenant_id"], after={"email": row["elevate_email"]})
        if S.COOLING_OFF in path:
            approved = times[path.index(S.COOLING_OFF)]
            users = self.people.users_of(tenant_index)
            effective = approved + settings.ELEVATION_WAITING_PERIOD
            # Still waiting: it ends in the future, not during a bench.
            later = max(effective, self.moment + timedelta(hours=self.rng.uniform(6, 72)))
            effective = times[-1] if status == S.ELEVATED else later
            elevation.update(approved_by_id=supervisor[0], approved_at=approved, waiting_started_at=approved, effective_at=effective)
            elevation["user_id"] = self.rng.choice(users) if users else None
            self._event(
                approved, supervisor, "elevation.approved", pk, row["tenant_id"], after={"effective_at": effective.isoformat()}
            )
            if status == S.ELEVATED:
                elevation["completed_at"] = times[-1]
                self._event(
                    times[-1], (None, "system"), "elevation.completed", pk, row["tenant_id"], after={"user": elevation["user_id"]}
                )
        batch.elevations.append(elevation)

    def _email(self, at: datetime, template: str, to: str, pk: int, *, sent: bool) -> dict:
        row = {
            "created_at": at,
            "template": template,
            "to_email": to,
            "context": {"reference": reference(pk)},
            "target_type": SR,
            "target_id": str(pk),
        }
        if sent:
            return {
                **row,
                "status": OutboxMessage.Status.SENT,
                "attempts": 1,
                "last_attempt_at": at,
                "sent_at": at,
                "subject": f"[{reference(pk)}]",
            }
        if self.rng.random() < 0.2:
            return {
                **row,
                "status": OutboxMessage.Status.FAILED,
                "attempts": settings.OUTBOX_MAX_ATTEMPTS,
                "last_attempt_at": at,
                "last_error": "SMTPServerDisconnected()",
            }
        # Pending after a failed try, its backoff ending after the bench: beat leaves it alone meanwhile.
        backoff_ends = self.moment + timedelta(hours=self.rng.uniform(2, 6))
        return {
            **row,
            "status": OutboxMessage.Status.PENDING,
            "attempts": 2,
            "last_attempt_at": at,
            "next_attempt_at": backoff_ends,
            "last_error": "SMTPServerDisconnected()",
        }


MODELS = {
    "requests": ServiceRequest,
    "messages": Message,
    "checks": VerificationCheck,
    "elevations": Elevation,
    "objections": Objection,
    "outbox": OutboxMessage,
}
