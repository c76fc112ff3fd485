"""/account/security/: password, second factor, backup codes, recovery contacts, recent sign-ins."""

import base64

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_ratelimit.core import is_ratelimited

from audit.services import RequestMeta
from portal.refusals import refusal_shown

from .. import policy, selectors
from ..forms import ChangePasswordForm, ReauthForm, RecoveryForm, TokenForm
from ..models import UserSession
from ..services import security as security_services
from ..services.second_factor import totp_enrolment_confirm
from .signin import qr_svg

FORMS = {"password": ChangePasswordForm, "recovery": RecoveryForm, "backup_codes": ReauthForm, "second_factor": ReauthForm}


@login_required
@require_http_methods(["GET", "POST"])
def security(request):
    user = request.user
    action = request.POST.get("action") if request.method == "POST" else None
    forms = {}
    for name, form_class in FORMS.items():
        data = request.POST if action == name else None
        initial = {"alternate_email": user.alternate_email, "alternate_phone": user.alternate_phone}
        forms[name] = form_class(data, user=user, prefix=name, initial=initial if name == "recovery" else None)
    if action in forms and is_ratelimited(request, group="security.change", key="user", rate="10/10m", method="POST", increment=True):
        # Someone holding a session cannot guess the password here without limit.
        messages.error(request, _("Too many attempts. Wait 10 minutes and try again."))
        return redirect("accounts:security")
    if action in forms and forms[action].is_valid():
        form = forms[action]
        shown = action != "backup_codes" or user_has_device(user)  # the page shows that form only with a device
        with refusal_shown(request, form=form if shown else None) as attempt:
            response = _security_change(request, action, form)
        if not attempt.refused:
            return response
    return render(
        request,
        "accounts/security.html",
        {
            "forms": forms,
            "has_device": user_has_device(user),
            "must_change": user.must_change_password,
            "requires_second_factor": policy.requires_second_factor(user),
            "signins": selectors.recent_signins(user),
            "minimum": policy.minimum_password_length(user),
        },
    )


def _security_change(request, action, form):
    """Make the change ``action`` asks for (the form is valid); the services refuse with DomainError."""
    user = request.user
    meta = RequestMeta.from_request(request)
    keep = request.session.session_key
    if action == "password":
        user = security_services.security_change_password(
            user=user, new_password=form.cleaned_data["new_password"], meta=meta, keep_session_key=keep
        )
        update_session_auth_hash(request, user)  # gives this session a new key: keep tracking it
        UserSession.objects.filter(session_key=keep).update(session_key=request.session.session_key)
        messages.success(request, _("Your password is changed. Your other sessions are signed out."))
    elif action == "recovery":
        security_services.security_set_recovery(
            user=user,
            alternate_email=form.cleaned_data["alternate_email"],
            alternate_phone=form.cleaned_data["alternate_phone"],
            meta=meta,
            keep_session_key=keep,
        )
        messages.success(request, _("Your recovery contacts are saved. Your other sessions are signed out."))
    elif action == "backup_codes":
        request.session["backup_codes"] = security_services.security_backup_codes_regenerate(
            user=user, meta=meta, keep_session_key=keep
        )
        request.session["after_codes"] = request.path
        return redirect("accounts:backup_codes")
    elif action == "second_factor":
        if form.device is not None:
            otp_login(request, form.device)
        device = security_services.security_authenticator_replace_start(user=user)
        request.session["enrol_device"] = device.pk
        return redirect("accounts:security_enrol")
    return redirect("accounts:security")


@login_required
@require_http_methods(["GET", "POST"])
def security_enrol(request):
    """Replace the second factor (after re-authentication on the security page)."""

    device = TOTPDevice.objects.filter(pk=request.session.get("enrol_device"), user=request.user, confirmed=False).first()
    if device is None or request.user.must_change_password:  # a temporary password allows nothing else
        return redirect("accounts:security")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        meta = RequestMeta.from_request(request)
        with refusal_shown(form=form, field="token") as attempt:
            codes = totp_enrolment_confirm(user=request.user, device_id=device.pk, token=form.cleaned_data["token"], meta=meta)
        if not attempt.refused:
            security_services.security_second_factor_replaced(
                user=request.user, meta=meta, keep_session_key=request.session.session_key
            )
            otp_login(request, TOTPDevice.objects.get(pk=device.pk))
            request.session.pop("enrol_device", None)
            request.session["backup_codes"] = codes
            request.session["after_codes"] = "/account/security/"
            return redirect("accounts:backup_codes")

    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/signin_enrol.html",
        {
            "form": form,
            "qr": qr_svg(device.config_url),
            "user_email": request.user.email,
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        },
    )
