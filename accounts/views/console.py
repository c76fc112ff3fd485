"""The tenant console (/console/): for the tenant's global admins and user admins only."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from audit.presentation import present_events
from audit.selectors import action_choices, audit_events_for_tenant
from audit.services import Actor, ActorKind, RequestMeta
from portal.refusals import refusal_shown

from ..console_forms import InviteForm, ResetPasswordForm, RoleForm, SettingsForm
from ..models import Membership, Tenant, User
from ..policy import SIGNIN_FAILURE_CEILING
from ..services import console as console_services


def tenant_admin(view):
    """Resolve the tenant; 403 for anyone who is not its admin (other tenants' admins included)."""

    @login_required
    @wraps(view)
    def wrapper(request, tenant_id, *args, **kwargs):
        tenant = Tenant.objects.filter(pk=tenant_id).first()
        role = console_services.admin_role(request.user, tenant) if tenant else None
        if role is None:
            raise PermissionDenied
        if not request.user.is_verified():
            # Signed in without a second factor (e.g. made admin meanwhile): sign in again with one.
            # Sign out first, or /login/ would send a signed-in user straight back here.
            logout(request)
            return redirect_to_login(request.get_full_path())
        request.tenant, request.tenant_role = tenant, Membership.Role(role)
        request.is_global_admin = request.tenant_role == Membership.Role.GLOBAL_ADMIN
        return view(request, *args, **kwargs)

    return wrapper


def _actor(request):
    return Actor(kind=ActorKind.USER, user=request.user, meta=RequestMeta.from_request(request))


def _member(request, user_id) -> User:
    return get_object_or_404(User, pk=user_id, memberships__tenant=request.tenant)


def _ctx(request, **extra):
    return {"tenant": request.tenant, "tenant_role": request.tenant_role, "is_global_admin": request.is_global_admin, **extra}


@login_required
def home(request):
    tenants = Tenant.objects.filter(memberships__user=request.user, memberships__role__in=console_services.ADMIN_ROLES).distinct()
    if tenants and not request.user.is_verified():
        logout(request)
        return redirect_to_login(request.get_full_path(), reverse("accounts:login"))
    if len(tenants) == 1:
        return redirect("console:dashboard", tenant_id=tenants[0].pk)
    if not tenants:
        raise PermissionDenied
    return render(request, "accounts/console/choose_tenant.html", {"tenants": tenants})


@tenant_admin
def dashboard(request):
    tenant = request.tenant
    admins = Membership.objects.filter(tenant=tenant, role__in=console_services.ADMIN_ROLES).select_related("user")
    return render(request, "accounts/console/dashboard.html", _ctx(request, admins=admins))


@tenant_admin
def users(request):
    q = request.GET.get("q", "").strip()
    memberships = Membership.objects.filter(tenant=request.tenant).select_related("user").order_by("user__email")
    if q:
        memberships = memberships.filter(Q(user__email__icontains=q) | Q(user__full_name__icontains=q))
    page = Paginator(memberships, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/console/users.html",
        _ctx(request, page=page, q=q, role_form=RoleForm(), reset_form=ResetPasswordForm(), ceiling=SIGNIN_FAILURE_CEILING),
    )


def _run(request, action):
    with refusal_shown(request):
        return action()
    return None


def _confirmed(request) -> bool:
    """A destructive or security action runs only on the POST of its confirmation page."""
    return request.method == "POST" and request.POST.get("confirmed") == "1"


def _confirm(request, *, user=None, question, consequences, button, fields=None, danger=True):
    """The confirmation page: what will happen, and one POST button that does it (no JavaScript needed)."""
    return render(
        request,
        "accounts/console/confirm.html",
        _ctx(
            request,
            member=user,
            question=question,
            consequences=consequences,
            button=button,
            fields=sorted((fields or {}).items()),
            danger=danger,
        ),
    )


@require_http_methods(["GET", "POST"])
@tenant_admin
def user_role(request, user_id):
    user = _member(request, user_id)
    form = RoleForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        messages.error(request, _("Choose a role from the list."))
        return redirect("console:users", tenant_id=request.tenant.pk)
    role = form.cleaned_data["role"]
    if not _confirmed(request):
        current = Membership.objects.filter(tenant=request.tenant, user=user).first()
        return _confirm(
            request,
            user=user,
            question=_("Change the role of %(email)s to %(role)s?") % {"email": user.email, "role": Membership.Role(role).label},
            consequences=[
                _("Current role: %(role)s.") % {"role": current.get_role_display() if current else "—"},
                _("They and the other admins are told by email."),
            ],
            button=_("Change the role"),
            fields={"role": role},
            danger=False,
        )
    if _run(
        request,
        lambda: console_services.console_set_role(actor=_actor(request), tenant=request.tenant, user=user, role=role),
    ):
        messages.success(request, _("Role changed for %(email)s.") % {"email": user.email})
    return redirect("console:users", tenant_id=request.tenant.pk)


def _member_action(service, success, confirm=None, **service_kwargs):
    """A console action on one member: call ``service``, say ``success`` or the refusal. With ``confirm``
    (question, consequences, button), a GET or an unconfirmed POST shows the confirmation page instead."""

    @require_http_methods(["GET", "POST"] if confirm else ["POST"])
    @tenant_admin
    def view(request, user_id):
        user = _member(request, user_id)
        if confirm and not _confirmed(request):
            question, consequences, button = confirm
            return _confirm(
                request,
                user=user,
                question=question % {"email": user.email},
                consequences=[str(c) for c in consequences],
                button=button,
            )
        kwargs = {name: parse(request) for name, parse in service_kwargs.items()}
        done = _run(request, lambda: service(actor=_actor(request), tenant=request.tenant, user=user, **kwargs) or True)
        if done:
            messages.success(request, success % {"email": user.email})
        return redirect("console:users", tenant_id=request.tenant.pk)

    return view


user_deactivate = _member_action(
    console_services.console_deactivate,
    gettext_lazy("%(email)s is deactivated."),
    confirm=(
        gettext_lazy("Deactivate %(email)s?"),
        [
            gettext_lazy("They can no longer sign in, and are signed out everywhere."),
            gettext_lazy("Links already sent to them stop working. The other admins are told."),
        ],
        gettext_lazy("Deactivate"),
    ),
)
user_unfreeze = _member_action(console_services.console_unfreeze, gettext_lazy("%(email)s can sign in again."))
user_reenrol = _member_action(
    console_services.console_require_reenrolment,
    gettext_lazy("%(email)s must set up a second factor at next sign-in."),
    confirm=(
        gettext_lazy("Reset the second factor of %(email)s?"),
        [
            gettext_lazy("Their authenticator app and backup codes stop working, and they are signed out everywhere."),
            gettext_lazy("They set up a new authenticator at next sign-in."),
        ],
        gettext_lazy("Reset the second factor"),
    ),
)
user_self_reset = _member_action(
    console_services.console_set_self_reset_allowed,
    gettext_lazy("Self-service reset updated for %(email)s."),
    allowed=lambda request: request.POST.get("allowed") == "1",
)

RESET_CONFIRMATIONS = {
    "link": (
        gettext_lazy("Email a password reset link to %(email)s?"),
        [
            gettext_lazy("They receive a single-use link to choose a new password, and are signed out everywhere."),
        ],
        gettext_lazy("Email the reset link"),
    ),
    "temporary": (
        gettext_lazy("Set a temporary password for %(email)s?"),
        [
            gettext_lazy("Their current password stops working at once, and they are signed out everywhere."),
            gettext_lazy("You see the temporary password once; they must choose their own at next sign-in."),
        ],
        gettext_lazy("Set a temporary password"),
    ),
}


@require_http_methods(["GET", "POST"])
@tenant_admin
def user_reset_password(request, user_id):
    user = _member(request, user_id)
    form = ResetPasswordForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        return redirect("console:users", tenant_id=request.tenant.pk)
    mode = form.cleaned_data["mode"]
    if not _confirmed(request):
        question, consequences, button = RESET_CONFIRMATIONS[mode]
        return _confirm(
            request,
            user=user,
            question=question % {"email": user.email},
            consequences=[str(c) for c in consequences],
            button=button,
            fields={"mode": mode},
        )
    result = _run(
        request,
        lambda: console_services.console_reset_password(actor=_actor(request), tenant=request.tenant, user=user, mode=mode) or "sent",
    )
    if result == "sent":
        messages.success(request, _("A reset link was emailed to %(email)s.") % {"email": user.email})
    elif result:
        # Shown once, never stored in clear.
        return render(request, "accounts/console/temporary_password.html", _ctx(request, member=user, password=result))
    return redirect("console:users", tenant_id=request.tenant.pk)


@require_http_methods(["GET", "POST"])
@tenant_admin
def invite(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_shown(form=form, field="email") as attempt:
            user = console_services.console_invite(actor=_actor(request), tenant=request.tenant, **form.cleaned_data)
        if not attempt.refused:
            messages.success(request, _("An invitation was emailed to %(email)s.") % {"email": user.email})
            return redirect("console:users", tenant_id=request.tenant.pk)
    return render(request, "accounts/console/invite.html", _ctx(request, form=form))


@require_http_methods(["GET", "POST"])
@tenant_admin
def tenant_settings(request):
    tenant = request.tenant
    form = SettingsForm(
        request.POST or None,
        initial={
            "self_service_reset_enabled": tenant.self_service_reset_enabled,
            "self_service_reset_scope": tenant.self_service_reset_scope,
            "phone_on_record": tenant.phone_on_record,
        },
    )
    if request.method == "POST" and form.is_valid():
        if tenant.self_service_reset_enabled and not form.cleaned_data["self_service_reset_enabled"] and not _confirmed(request):
            return _confirm(
                request,
                question=_("Turn off self-service password reset?"),
                consequences=[
                    _("Users can no longer reset their own password: they must ask an admin."),
                    _("Resets already under way stop at the next step."),
                ],
                button=_("Turn it off"),
                fields={k: v for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken", "confirmed")},
            )
        with refusal_shown(form=form) as attempt:
            console_services.console_update_settings(actor=_actor(request), tenant=tenant, **form.cleaned_data)
        if not attempt.refused:
            messages.success(request, _("Settings saved."))
            return redirect("console:settings", tenant_id=tenant.pk)
    return render(request, "accounts/console/settings.html", _ctx(request, form=form))


@tenant_admin
def audit_log(request):
    # Support's own work on service requests (check notes, numbers called) is not shown here: a
    # requester who is also a tenant admin must not read the agents' notes.
    hidden = ("tickets.servicerequest",)
    action = request.GET.get("action", "")
    actions = action_choices(audit_events_for_tenant(request.tenant, leave_out_target_types=hidden))
    events = audit_events_for_tenant(request.tenant, action=action, leave_out_target_types=hidden)
    page = Paginator(events.select_related("actor"), 50).get_page(request.GET.get("page"))
    rows = present_events(page.object_list)
    return render(request, "accounts/console/audit.html", _ctx(request, page=page, rows=rows, actions=actions, action=action))
