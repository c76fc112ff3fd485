"""`manage.py generate_bench_data` (make bench): every status, a chain that verifies, the counts asked for."""

from collections import defaultdict
from io import StringIO

from django.core.management import call_command

from accounts.models import Membership, Tenant, TenantDomain, User
from audit.models import AuditEvent
from audit.services import Actor, audit_event_record
from audit.verify import audit_chain_verify
from notifications.models import OutboxMessage
from tickets.models import Elevation, Message, ServiceRequest, Status, VerificationCheck
from tickets.workflow import TRANSITIONS

ARGS = ("--tenants", "5", "--users", "20", "--requests", "30", "--seed", "7")


def _generate() -> str:
    out = StringIO()
    call_command("generate_bench_data", *ARGS, stdout=out)
    return out.getvalue()


def test_bench_data_has_every_status_reached_through_the_state_machine_and_a_chain_that_verifies(db):
    tenant = Tenant.objects.create(legal_name="Before", partner_id="P-1", primary_domain="before.example", country="FR")
    audit_event_record(actor=Actor.system(), action="tenant.changed_by_support", target=tenant)  # the chain goes on from here

    report = _generate()

    assert "audit_auditevent" in report and "tickets_servicerequest" in report, "timings per table"
    assert Tenant.objects.count() == 1 + 5 and TenantDomain.objects.exists()
    assert User.objects.filter(is_staff=False).count() == 20 and Membership.objects.count() == 20
    assert Membership.objects.filter(role=Membership.Role.GLOBAL_ADMIN).exists()
    assert ServiceRequest.objects.count() == 30
    assert set(ServiceRequest.objects.values_list("status", flat=True)) == set(Status)
    assert Message.objects.exists() and VerificationCheck.objects.exists() and Elevation.objects.exists()
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT).exists()
    assert not any(u.has_usable_password() for u in User.objects.filter(is_staff=False)), "no password hashed per user"

    # Each request's history, read from the audit log, is a walk through the state machine to its status.
    paths = defaultdict(list)
    for event in AuditEvent.objects.filter(action="status.changed").order_by("id"):
        paths[int(event.target_id)].append((event.before["status"], event.after["status"]))
    for sr in ServiceRequest.objects.all():
        steps = paths[sr.pk]
        assert all(step in TRANSITIONS for step in steps), (sr.status, steps)
        assert (steps[-1][1] if steps else Status.AWAITING_EMAIL_CONFIRMATION) == sr.status
        assert all(later[0] == earlier[1] for earlier, later in zip(steps, steps[1:], strict=False))

    verdict = audit_chain_verify()
    assert verdict.ok, verdict.describe()
    assert verdict.checked == AuditEvent.objects.count() > 30 * 3
    call_command("verify_audit_log", stdout=StringIO())


def test_a_second_run_adds_the_same_again_and_the_chain_still_verifies(db):
    _generate()
    first = list(ServiceRequest.objects.order_by("id").values_list("status", "category", "language"))
    _generate()

    assert ServiceRequest.objects.count() == 60 and User.objects.filter(is_staff=False).count() == 40
    second = list(ServiceRequest.objects.order_by("id").values_list("status", "category", "language"))[30:]
    assert second == first, "the same seed writes the same requests"
    assert audit_chain_verify().ok
