"""Moving a request along as agents and supervisors would, for tests that start half-way."""

from datetime import timedelta

from portal.clock import now, travel
from tests import factories
from tests.conftest import actor
from tickets import services
from tickets.models import CheckKind, CheckOutcome, Elevation, ServiceRequest, Status, VerificationCheck

# With the confirmed email: the former admin gone, and the call-back + identity + company channels.
PASSED_CHECKS = (
    CheckKind.EMAIL_CONFIRMED,
    CheckKind.FORMER_ADMIN_GONE,
    CheckKind.CALLBACK_ON_RECORD,
    CheckKind.IDENTITY_EVIDENCE,
    CheckKind.COMPANY_DETAILS,
)


def pass_checks(sr, kinds=PASSED_CHECKS):
    """Passed checks as if recorded earlier (for requests a factory put straight into a later status)."""
    for kind in kinds:
        VerificationCheck.objects.create(service_request=sr, kind=kind, outcome=CheckOutcome.PASSED, note="ok")
    return sr


def verified_request(tenant=None, **kwargs):
    """A request whose proof is complete, matched to its tenant."""
    tenant = tenant or factories.TenantFactory()
    sr = factories.ServiceRequestFactory(tenant_on_record=tenant, tenant=tenant, status=Status.VERIFIED, **kwargs)
    return pass_checks(sr)


def proposed_request(proposer, email=None, **kwargs):
    sr = verified_request(**kwargs)
    services.elevation_propose(
        service_request=sr,
        actor=actor(proposer),
        email=email or sr.elevate_email,
        full_name="Luc Bernard",
        note="" if not email else "Named by the company.",
    )
    return sr


def approve(sr, user):
    """Approve the proposal as it stands (what the supervisor's page shows)."""
    elevation = Elevation.objects.get(service_request=sr)
    return services.elevation_approve(service_request=sr, actor=actor(user), elevation_id=elevation.pk, email=elevation.email)


def after_waiting_period(sr):
    """Move business time past the request's waiting period (a context manager)."""
    elevation = Elevation.objects.get(service_request=sr)
    return travel(elevation.effective_at - now() + timedelta(seconds=1))


def complete(sr) -> ServiceRequest:
    """Let the waiting period pass and run beat's completion task, as the worker would."""
    with after_waiting_period(sr):
        services.elevations_complete_due()
    sr.refresh_from_db()
    return sr
