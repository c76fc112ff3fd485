"""Sign-in: password, then (for staff and admins) a second factor, enrolled on first sign-in."""

import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_ratelimit.core import is_ratelimited

from audit.services import RequestMeta
from portal.clock import now
from portal.refusals import refusal_shown

from .. import policy, services
from ..forms import SignInForm, TokenForm
from ..models import User
from ..services.sessions import session_register

PENDING = "signin_pending"
PENDING_SECONDS = 600


def _limited(request):
    # Per address only, whatever the account: a password sprayer slows down, and no account can be
    # blocked from elsewhere (the per-account throttle is the service's, keyed on account and network).
    return is_ratelimited(request, group="signin.ip", key="ip", rate="30/10m", method="POST", increment=True)


def _next_url(request, default):
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return default


def _landing(user):
    if user.is_staff:
        return reverse("admin:index")
    if policy.requires_second_factor(user):
        return reverse("console:home")
    return reverse("accounts:security")


def _pending_user(request):
    pending = request.session.get(PENDING)
    if not pending or pending["at"] + PENDING_SECONDS < now().timestamp():
        return None
    return User.objects.filter(pk=pending["user"], is_active=True).first()


def _complete(request, user, device, method):
    next_url = request.session.get(PENDING, {}).get("next") or _landing(user)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")  # rotates the session key
    if device is not None:
        otp_login(request, device)
    request.session["auth_at"] = now().timestamp()
    request.session.pop(PENDING, None)
    request.session.save()
    meta = RequestMeta.from_request(request)
    session_register(user=user, session_key=request.session.session_key, meta=meta)
    services.signin_record_success(user=user, meta=meta, method=method)
    if user.must_change_password:
        return redirect("accounts:security")
    return redirect(next_url)


@require_http_methods(["GET", "POST"])
def signin(request):
    if request.user.is_authenticated:
        return redirect(_landing(request.user))
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if _limited(request):
            return render(request, "accounts/login.html", {"form": form, "limited": True}, status=429)
        with refusal_shown(form=form) as attempt:
            user = services.signin_authenticate(
                email=email, password=form.cleaned_data["password"], meta=RequestMeta.from_request(request)
            )
        if not attempt.refused:
            if not policy.requires_second_factor(user) and not user_has_device(user):
                request.session[PENDING] = {"user": user.pk, "at": now().timestamp(), "next": _next_url(request, _landing(user))}
                return _complete(request, user, None, "password")
            request.session.cycle_key()
            request.session[PENDING] = {"user": user.pk, "at": now().timestamp(), "next": _next_url(request, _landing(user))}
            if user_has_device(user):
                return redirect("accounts:signin_verify")
            return redirect("accounts:signin_enrol")
    return render(request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")})


@require_http_methods(["GET", "POST"])
def signin_verify(request):
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.second_factor_verify(user=user, token=form.cleaned_data["token"])
        if device is not None:
            return _complete(request, user, device, device.__class__.__name__.replace("Device", "").lower())
        services.signin_second_factor_failed(user=user, meta=RequestMeta.from_request(request))
        form.add_error("token", _("That code is not right, or it was already used. Wait for the next code and try again."))
    return render(request, "accounts/signin_verify.html", {"form": form, "user_email": user.email})


def qr_svg(data: str) -> str:
    """The otpauth URI as an inline SVG QR code, drawn here: no external service sees the secret."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


@require_http_methods(["GET", "POST"])
def signin_enrol(request):
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    if user_has_device(user):
        # Enrolling here would replace the existing second factor with only the password.
        return redirect("accounts:signin_verify")
    form = TokenForm(request.POST or None)
    device = TOTPDevice.objects.filter(pk=request.session.get("enrol_device"), user=user, confirmed=False).first()
    if request.method == "POST" and device is not None and form.is_valid():
        with refusal_shown(form=form, field="token") as attempt:
            codes = services.totp_enrolment_confirm(
                user=user, device_id=device.pk, token=form.cleaned_data["token"], meta=RequestMeta.from_request(request)
            )
        if not attempt.refused:
            request.session.pop("enrol_device", None)
            response = _complete(request, user, TOTPDevice.objects.get(pk=device.pk), "totp-enrolment")
            request.session["backup_codes"] = codes
            request.session["after_codes"] = response["Location"]
            return redirect("accounts:backup_codes")
    if device is None:
        device = services.totp_enrolment_start(user=user)
        request.session["enrol_device"] = device.pk
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/signin_enrol.html",
        {
            "form": form,
            "qr": qr_svg(device.config_url),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "user_email": user.email,
        },
    )


def backup_codes(request):
    """Shown once, right after they are made."""
    codes = request.session.pop("backup_codes", None)
    if not request.user.is_authenticated or not codes:
        return redirect("accounts:login")
    return render(
        request,
        "accounts/backup_codes.html",
        {
            "codes": codes,
            "next": request.session.pop("after_codes", _landing(request.user)),
        },
    )


@require_http_methods(["POST"])
def signout(request):
    logout(request)
    messages.info(request, _("You are signed out."))
    return redirect("accounts:login")
