"""Who hears what about a service request. Called inside the transaction of the change."""

from django.conf import settings
from django.urls import reverse

from accounts import selectors as account_selectors
from audit.services import ActorKind, audit_event_record
from notifications.services import outbox_enqueue

from . import alerts, selectors
from .models import ServiceRequest, Status
from .selectors import support_agents, support_supervisors


def _base(sr: ServiceRequest) -> dict:
    return {
        "reference": sr.reference,
        "company": sr.company_legal_name,
        "requester_name": sr.requester_name,
        "status": sr.status,
        "access_url": settings.SITE_URL + reverse("tickets:access") + f"?reference={sr.reference}",
        "admin_url": settings.SITE_URL + reverse("admin:tickets_servicerequest_change", args=[sr.pk]),
    }


def tracking_url(sr: ServiceRequest, raw_token: str) -> str:
    return settings.SITE_URL + reverse("tickets:track", args=[sr.reference]) + f"?token={raw_token}"


def to_requester(sr: ServiceRequest, template: str, *, secrets=None, **extra) -> None:
    outbox_enqueue(
        template=template,
        to_email=sr.requester_email,
        language=sr.language,
        context={**_base(sr), **extra},
        secrets=secrets,
        target=sr,
    )


def to_users(users, sr: ServiceRequest, template: str, *, exclude=(), **extra) -> None:
    seen = {e.lower() for e in exclude}
    for user in users:
        if user.email.lower() in seen:
            continue
        seen.add(user.email.lower())
        outbox_enqueue(
            template=template,
            to_email=user.email,
            language=user.preferred_language,
            context={**_base(sr), "recipient_name": user.get_short_name(), **extra},
            target=sr,
        )


def notify_status_entered(change, *, actor, note: str, secrets: dict) -> None:
    handler = ON_ENTER.get(change.after)
    if handler is not None:
        handler(change, actor=actor, note=note, secrets=secrets)


def _entered_new(change, *, actor, note, secrets):
    """In the queue: the requester gets the private link, agents hear of it, and, at once, everyone who
    can stop a takeover of the tenant (its active global admins, the former admin on record)."""
    sr = change.service_request
    to_requester(sr, "request_received", secrets={"tracking_url": tracking_url(sr, secrets["tracking_token"])})
    to_users(support_agents(), sr, "queue_new")
    context = alerts.filed_context(sr)
    for tenant in selectors.tenants_to_warn(sr):
        alerts.warn_tenant(sr, tenant, template="takeover_filed", **context)
    _flag_concurrent(sr, actor)


def _flag_concurrent(sr: ServiceRequest, actor) -> None:
    """Two open requests for one tenant: both requesters and supervisors are told; neither can be approved
    until a supervisor links them or rejects one (the tenant's people read it in their warning)."""
    others = list(selectors.concurrent_requests(sr))
    if not others:
        return
    references = ", ".join(o.reference for o in others)
    audit_event_record(
        actor=actor, action="request.concurrent", target=sr, tenant=sr.tenant, after={"concurrent_with": [o.reference for o in others]}
    )
    to_requester(sr, "concurrent_requester", others=references)
    for other in others:
        audit_event_record(
            actor=actor, action="request.concurrent", target=other, tenant=other.tenant, after={"concurrent_with": [sr.reference]}
        )
        to_requester(other, "concurrent_requester", others=sr.reference)
    to_users(support_supervisors(), sr, "concurrent_supervisors", others=references)


def _entered_in_review(change, *, actor, note, secrets):
    sr = change.service_request
    if actor.kind == ActorKind.REQUESTER:
        to_users([sr.assignee] if sr.assignee else support_agents(), sr, "requester_replied")
    elif change.before in (Status.NEW, Status.DISPUTED):
        to_requester(sr, "status_changed")


def _entered_waiting(change, *, actor, note, secrets):
    to_requester(change.service_request, "information_requested", message=note)


def _entered_verified(change, *, actor, note, secrets):
    to_requester(change.service_request, "status_changed")


def _entered_proposed(change, *, actor, note, secrets):
    sr = change.service_request
    to_users(
        support_supervisors(),
        sr,
        "elevation_proposed",
        exclude=[actor.describe()],
        elevate_email=sr.elevation.email,
        proposed_by=actor.describe(),
    )


def _entered_cooling_off(change, *, actor, note, secrets):
    """Approved: the requester learns when it takes effect; the proposed user and everyone who can stop
    it are emailed again, with objection links."""
    sr = change.service_request
    elevation = sr.elevation
    effective = alerts.when(elevation.effective_at)
    to_requester(sr, "elevation_scheduled", effective_at=effective)
    alerts.warn_everyone(
        sr,
        template="takeover_approved",
        proposed_user=account_selectors.user_by_email(elevation.email),
        proposed_email=elevation.email,
        effective_at=effective,
        proposed=elevation.email,
    )


def _entered_disputed(change, *, actor, note, secrets):
    sr = change.service_request
    staff = list(support_supervisors()) + ([sr.assignee] if sr.assignee else [])
    to_users(staff, sr, "objection_raised", by=actor.describe(), message=note)
    to_requester(sr, "request_on_hold")


def _entered_elevated(change, *, actor, note, secrets):
    sr = change.service_request
    elevation = sr.elevation
    new_admin = elevation.user
    tenant = sr.tenant
    extra = {"tenant": tenant.legal_name, "new_admin_email": new_admin.email}
    outbox_enqueue(
        template="elevated_new_admin",
        to_email=new_admin.email,
        language=new_admin.preferred_language,
        context={
            **_base(sr),
            **extra,
            "login_url": settings.SITE_URL + reverse("accounts:login"),
            "needs_password": bool(secrets.get("set_password_url")),
        },
        secrets={k: v for k, v in secrets.items() if k == "set_password_url"},
        target=sr,
    )
    to_requester(sr, "elevated_requester", **extra)
    others = account_selectors.tenant_admins(tenant).exclude(pk=new_admin.pk)
    to_users(others, sr, "elevated_tenant_admin", exclude=[sr.requester_email], **extra)
    # The former admin's address as held on the tenant record (never the one typed in the form),
    # so that a real admin who has not left learns of it at once.
    if sr.former_admin_email and account_selectors.is_global_admin_on_record(tenant, sr.former_admin_email):
        former = account_selectors.user_by_email(sr.former_admin_email)
        if former and former.pk != new_admin.pk and not others.filter(pk=former.pk).exists():
            to_users([former], sr, "elevated_former_admin", **extra)


def _entered_rejected(change, *, actor, note, secrets):
    to_requester(change.service_request, "rejected", reason=note)


def _entered_closed(change, *, actor, note, secrets):
    sr = change.service_request
    to_requester(sr, "status_changed")
    if change.after == Status.CANCELLED and sr.assignee:
        to_users([sr.assignee], sr, "status_changed")


ON_ENTER = {
    Status.NEW: _entered_new,
    Status.IN_REVIEW: _entered_in_review,
    Status.WAITING_ON_REQUESTER: _entered_waiting,
    Status.VERIFIED: _entered_verified,
    Status.ELEVATION_PROPOSED: _entered_proposed,
    Status.COOLING_OFF: _entered_cooling_off,
    Status.DISPUTED: _entered_disputed,
    Status.ELEVATED: _entered_elevated,
    Status.REJECTED: _entered_rejected,
    Status.CANCELLED: _entered_closed,
    Status.EXPIRED: _entered_closed,
}
