"""The request lifecycle under random sequences of everything people (and time, and beat) can do.

Hypothesis drives the real services against PostgreSQL: filing, confirming, replies with and without
files, checks, tenant matching, proposals (of the named user or another), send-backs, approvals by any
staff member with fresh or stale pages, objections from emailed links, resolutions, shorter waits,
overrides, the tenant's admin signing in, time passing and beat ticks. After every step it checks:

- nobody becomes global admin without two different staff (a supervisor approving), every required proof,
  the whole waiting period, and no open objection;
- at most one elevation takes effect per request;
- every status change is audited, in an unbroken chain from filing to the current status;
- a request is disputed exactly when it has an open objection.
"""

import contextlib
import re
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from accounts.models import Membership, User
from audit.models import AuditEvent
from notifications.models import OutboxMessage
from portal import clock
from portal.clock import now
from tests import factories
from tests.conftest import actor
from tests.helpers import pdf
from tickets import services
from tickets.models import CheckKind, CheckOutcome, Elevation, Objection, ServiceRequest, Status
from tickets.policy import waiting_period
from tickets.selectors import checks_all_passed
from tickets.workflow import DomainError

GA = Membership.Role.GLOBAL_ADMIN
AGENT_CHECKS = [CheckKind.IDENTITY_EVIDENCE, CheckKind.CALLBACK_ON_RECORD, CheckKind.COMPANY_DETAILS, CheckKind.FORMER_ADMIN_GONE]
OUTCOMES = [CheckOutcome.PASSED, CheckOutcome.PASSED, CheckOutcome.PASSED, CheckOutcome.FAILED]
HOURS = [1, 6, 24, 71, 73, 150]
# Rules that end or freeze a request act one time in four, so that more sequences reach the late statuses.
DICE = st.integers(0, 3)


def _token(url: str) -> str:
    return re.search(r"token=([\w-]+)", url).group(1)


class RequestLifecycle(RuleBasedStateMachine):
    """One tenant whose admin has left (and who may come back), two agents, three supervisors."""

    @initialize(start=st.sampled_from(["nothing", "filed", "in the queue", "verified", "proposed", "approved"]))
    def setup(self, start):
        # Each example runs in a savepoint rolled back at teardown, with business time reset.
        # As Django's TestCase does, so that the services' durable blocks may run inside it.
        self._atomic = transaction.atomic()
        self._atomic._from_testcase = True
        self._atomic.__enter__()
        self._offset = clock._offset
        self.tenant = factories.TenantFactory(primary_domain="fabrikam.example", legal_name="Fabrikam SARL")
        self.former = factories.UserFactory(
            email="marc@fabrikam.example", full_name="Marc Ancien", last_login=now() - timedelta(days=200)
        )
        factories.MembershipFactory(user=self.former, tenant=self.tenant, role=GA)
        self.staff = [factories.agent(), factories.agent(), factories.supervisor(), factories.supervisor(), factories.supervisor()]
        self.supervisor_ids = {u.pk for u in self.staff[2:]}
        self.initial_admins = {self.former.email}
        self.requests: list[int] = []
        self.pages: dict[int, tuple] = {}  # what a supervisor's page showed: (elevation id, email)
        self.tried = 0
        self._start_at(start)

    def _start_at(self, start):
        """Begin the example with one request already taken, by the real services, to ``start``."""
        steps = ["filed", "in the queue", "verified", "proposed", "approved"]
        if start == "nothing":
            return
        for step in steps[: steps.index(start) + 1]:
            if step == "filed":
                self.file(elevate="luc", confirm=False)
            elif step == "in the queue":
                self.confirm(0)
            elif step == "verified":
                self.agent_works_the_request(0, 0)
            elif step == "proposed":
                self.propose(0, 0, other=False)
            elif step == "approved":
                self.supervisor_reads_then_approves(0, 2)

    def teardown(self):
        clock._offset = self._offset
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _sr(self, i) -> ServiceRequest:
        return ServiceRequest.objects.get(pk=self.requests[i % len(self.requests)])

    def _try(self, action):
        """People try things the rules refuse: a refusal is an answer, not a failure."""
        self.tried += 1
        with contextlib.suppress(DomainError):
            action()  # a refusal rolls back the service's own transaction, nothing else

    # --- Requesters -----------------------------------------------------------------------------------------

    @precondition(lambda self: len(self.requests) < 2)
    @rule(elevate=st.sampled_from(["luc", "claire", "marc"]), confirm=st.booleans())
    def file(self, elevate, confirm):
        data = {
            "category": "admin_left",
            "company_legal_name": "Fabrikam SARL",
            "company_partner_id": "",
            "company_domain": "fabrikam.example",
            "company_country": "FR",
            "company_address": "12 rue de la Paix",
            "company_phone": "+33 1 70 00 00 01",
            "requester_name": "Claire Martin",
            "requester_email": "claire@fabrikam.example",
            "requester_phone": "+33 6 00 00 00 01",
            "requester_job_title": "Office manager",
            "former_admin_name": "Marc",
            "former_admin_email": self.former.email,
            "former_admin_reason": "left_company",
            "elevate_email": f"{elevate}@fabrikam.example",
            "elevate_name": elevate.title(),
            "reason": "Marc left.",
        }
        self.requests.append(services.service_request_submit(data=data, uploads=[pdf()]).pk)
        if confirm:
            self.confirm(len(self.requests) - 1)

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 50))
    def confirm(self, i):
        sr = self._sr(i)
        message = OutboxMessage.objects.filter(target_id=str(sr.pk), template="confirm_email").first()
        self._try(lambda: services.service_request_confirm_email(reference=sr.reference, token=_token(message.secrets["confirm_url"])))

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 50), with_file=st.booleans())
    def reply(self, i, with_file):
        sr = self._sr(i)
        self._try(
            lambda: services.service_request_requester_reply(service_request=sr, body="More.", uploads=[pdf()] if with_file else [])
        )

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 50), dice=DICE)
    def cancel(self, i, dice):
        if dice:
            return
        self._try(lambda: services.service_request_cancel(service_request=self._sr(i)))

    # --- Agents and supervisors -----------------------------------------------------------------------------

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 50), who=st.integers(0, 4))
    def match_tenant(self, i, who):
        self._try(
            lambda: services.service_request_match_tenant(
                service_request=self._sr(i), tenant=self.tenant, actor=actor(self.staff[who])
            )
        )

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 50), who=st.integers(0, 4))
    def agent_works_the_request(self, i, who):
        """An agent matches the tenant and records every check as passed, one after the other."""
        self.match_tenant(i, who)
        for kind in AGENT_CHECKS:
            self.record_check(i, who, kind, CheckOutcome.PASSED)

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 50), who=st.integers(0, 4), kind=st.sampled_from(AGENT_CHECKS), outcome=st.sampled_from(OUTCOMES))
    def record_check(self, i, who, kind, outcome):
        self._try(
            lambda: services.verification_check_record(
                service_request=self._sr(i), actor=actor(self.staff[who]), kind=kind, outcome=outcome, note="n"
            )
        )

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 50), who=st.integers(0, 4), other=st.booleans())
    def propose(self, i, who, other):
        sr = self._sr(i)
        email = "claire@fabrikam.example" if other else sr.elevate_email
        self._try(
            lambda: services.elevation_propose(
                service_request=sr, actor=actor(self.staff[who]), email=email, note="Named on the call-back." if other else ""
            )
        )

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 50))
    def supervisor_opens_the_page(self, i):
        sr = self._sr(i)
        elevation = Elevation.objects.filter(service_request=sr).first()
        if elevation:
            self.pages[sr.pk] = (elevation.pk, elevation.email)

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 50), who=st.integers(0, 4))
    def supervisor_reads_then_approves(self, i, who):
        self.supervisor_opens_the_page(i)
        self.approve(i, who, fresh=False)

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 50), who=st.integers(0, 4), fresh=st.booleans())
    def approve(self, i, who, fresh):
        sr = self._sr(i)
        elevation = Elevation.objects.filter(service_request=sr).first()
        seen = (elevation.pk, elevation.email) if (fresh and elevation) else self.pages.get(sr.pk, (0, ""))
        self._try(
            lambda: services.elevation_approve(service_request=sr, actor=actor(self.staff[who]), elevation_id=seen[0], email=seen[1])
        )

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 50), who=st.integers(0, 4))
    def send_back(self, i, who):
        self._try(lambda: services.elevation_send_back(service_request=self._sr(i), actor=actor(self.staff[who]), note="Look again."))

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 50), who=st.integers(0, 4), dice=DICE)
    def reject(self, i, who, dice):
        if dice:
            return
        self._try(lambda: services.service_request_reject(service_request=self._sr(i), actor=actor(self.staff[who]), reason="No."))

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 50), who=st.integers(0, 4), minutes=st.sampled_from([30, 60, 600, 4000]))
    def shorten(self, i, who, minutes):
        self._try(
            lambda: services.elevation_shorten_waiting(
                service_request=self._sr(i), actor=actor(self.staff[who]), minutes=minutes, reason="Urgent."
            )
        )

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 50), who=st.integers(0, 4))
    def override(self, i, who):
        self._try(
            lambda: services.admin_block_override(
                service_request=self._sr(i), actor=actor(self.staff[who]), reason="Checked off-band."
            )
        )

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 50), who=st.integers(0, 4), hours=st.sampled_from(HOURS))
    def advance(self, i, who, hours):
        """Whoever is picked takes the request's natural next step (they may be the wrong person)."""
        status = self._sr(i).status
        if status == Status.AWAITING_EMAIL_CONFIRMATION:
            self.confirm(i)
        elif status in (Status.NEW, Status.IN_REVIEW, Status.WAITING_ON_REQUESTER):
            self.agent_works_the_request(i, who)
        elif status == Status.VERIFIED:
            self.propose(i, who, other=False)
        elif status == Status.ELEVATION_PROPOSED:
            self.supervisor_reads_then_approves(i, who)
        elif status == Status.COOLING_OFF:
            self.time_passes_then_beat(hours)

    # --- The people told, the former admin, time and beat ------------------------------------------------------

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 50), k=st.integers(0, 20), dice=DICE)
    def object(self, i, k, dice):
        if dice:
            return
        sr = self._sr(i)
        urls = [
            m.secrets["objection_url"]
            for m in OutboxMessage.objects.filter(target_id=str(sr.pk)).order_by("pk")
            if "objection_url" in m.secrets
        ]
        if urls:
            self._try(lambda: services.objection_raise(raw_token=_token(urls[k % len(urls)]), message="Not me."))

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 50), who=st.integers(0, 4), decision=st.sampled_from(["reject", "continue"]))
    def resolve(self, i, who, decision):
        self._try(
            lambda: services.objection_resolve(
                service_request=self._sr(i), actor=actor(self.staff[who]), decision=decision, reason="Decided."
            )
        )

    @rule(dice=DICE)
    def former_admin_signs_in(self, dice):
        if dice:
            return
        User.objects.filter(pk=self.former.pk).update(last_login=now())

    @rule(hours=st.sampled_from(HOURS))
    def time_passes(self, hours):
        clock._offset += timedelta(hours=hours)

    @rule(hours=st.sampled_from(HOURS))
    def time_passes_then_beat(self, hours):
        self.time_passes(hours)
        self.beat_tick()

    @rule()
    def beat_tick(self):
        services.elevations_complete_due()
        services.service_requests_expire_unconfirmed()

    # --- What must always hold --------------------------------------------------------------------------------

    @invariant()
    def nobody_becomes_global_admin_without_the_whole_path(self):
        if not hasattr(self, "tenant"):
            return
        admins = set(Membership.objects.filter(tenant=self.tenant, role=GA).values_list("user__email", flat=True))
        done = list(Elevation.objects.filter(completed_at__isnull=False).select_related("service_request"))
        assert admins - self.initial_admins <= {e.email for e in done}
        for elevation in done:
            sr = elevation.service_request
            assert sr.status == Status.ELEVATED
            assert elevation.proposed_by_id != elevation.approved_by_id
            assert elevation.approved_by_id in self.supervisor_ids
            assert checks_all_passed(sr), "every required proof"
            assert elevation.completed_at >= elevation.effective_at, "the whole waiting period"
            period = elevation.effective_at - elevation.waiting_started_at
            if elevation.shortened_by_id:
                assert period >= django_settings.ELEVATION_WAITING_MINIMUM
            else:
                assert period >= waiting_period(sr)
            assert not sr.objections.filter(resolved_at__isnull=True).exists(), "no open objection"
            assert elevation.waiting_started_at >= max(
                [o.resolved_at for o in sr.objections.all()], default=elevation.waiting_started_at
            ), "a dismissed objection restarts the waiting period"

    @invariant()
    def at_most_one_elevation_per_request(self):
        if not hasattr(self, "tenant"):
            return
        for pk in self.requests:
            assert AuditEvent.objects.filter(action="elevation.completed", target_id=str(pk)).count() <= 1
            assert AuditEvent.objects.filter(action="status.changed", target_id=str(pk), after__status=Status.ELEVATED).count() <= 1

    @invariant()
    def every_transition_is_audited_in_one_chain(self):
        if not hasattr(self, "tenant"):
            return
        for sr in ServiceRequest.objects.filter(pk__in=self.requests):
            state = Status.AWAITING_EMAIL_CONFIRMATION
            for event in AuditEvent.objects.filter(
                action="status.changed", target_type="tickets.servicerequest", target_id=str(sr.pk)
            ).order_by("pk"):
                assert event.before["status"] == state
                state = event.after["status"]
            assert state == sr.status

    @invariant()
    def disputed_exactly_when_an_objection_is_open(self):
        if not hasattr(self, "tenant"):
            return
        for sr in ServiceRequest.objects.filter(pk__in=self.requests):
            assert (sr.status == Status.DISPUTED) == Objection.objects.filter(service_request=sr, resolved_at__isnull=True).exists()


RequestLifecycle.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.django_db
def test_request_lifecycle(settings):
    settings.ELEVATION_WAITING_PERIOD = timedelta(hours=72)
    RequestLifecycle.TestCase("runTest").runTest()
