"""Self-service password reset pages (/password-reset/), step by step as the seed page describes."""

from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from audit.services import RequestMeta
from portal.refusals import refusal_shown

from ..reset_forms import AccountTypeForm, CodeForm, NewPasswordForm, UserIdForm
from ..services import reset as reset_services

TOKEN = "reset_token"  # noqa: S105  (the session key under which the reset token is kept, not a secret)


def _limited(request, group, rate, value=""):
    """Per address, and per ``value``: the typed user ID before a reset session exists, the session after,
    so that a stranger's attempts on the code page never count against the owner's own session."""
    by_ip = is_ratelimited(request, group=f"{group}.ip", key="ip", rate=rate, method="POST", increment=True)
    by_id = is_ratelimited(
        request, group=f"{group}.id", key=lambda g, r: value.strip().lower() or "-", rate=rate, method="POST", increment=True
    )
    return by_ip or by_id


def _session(request):
    return reset_services.reset_session_for(request.session.get(TOKEN))


@require_http_methods(["GET", "POST"])
def start(request):
    """Step 1: "Can't access your account?" — which type of account."""
    form = AccountTypeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["account_type"] == "personal":
            return render(request, "accounts/reset/personal.html")
        return redirect("reset:user_id")
    return render(request, "accounts/reset/start.html", {"form": form})


@require_http_methods(["GET", "POST"])
def user_id(request):
    """Step 2: user ID and the characters of the image or audio CAPTCHA."""
    form = UserIdForm(request.POST or None)
    if request.method == "POST":
        if _limited(request, "reset.start", "10/10m", request.POST.get("email", "")):
            return render(request, "accounts/reset/limited.html", status=429)
        if form.is_valid():
            session, raw = reset_services.reset_start(email=form.cleaned_data["email"], meta=RequestMeta.from_request(request))
            request.session[TOKEN] = raw
            return redirect("reset:verify")
    return render(request, "accounts/reset/user_id.html", {"form": form})


@require_http_methods(["GET", "POST"])
def verify(request):
    """Steps 3-5: the organisation's policy, then the emailed code (and authenticator code)."""
    session = _session(request)
    if session is None:
        return redirect("reset:user_id")
    meta = RequestMeta.from_request(request)
    policy_ = reset_services.reset_policy_for(session.email)
    if not policy_.self_service:
        reset_services.reset_tell_admins(session=session, policy_=policy_, meta=meta)
        # No context on purpose: this page is the same for every organisation and for none, so that it
        # tells nobody which domains are customers, what they are called or whether they have an admin.
        return render(request, "accounts/reset/policy_off.html")
    form = CodeForm(request.POST or None)
    if request.method == "GET" and not session.codes_sent:
        reset_services.reset_send_code(session=session, meta=meta)
    elif request.method == "POST" and request.POST.get("action") == "resend":
        if _limited(request, "reset.resend", "10/10m", session.token_hash):
            return render(request, "accounts/reset/limited.html", status=429)
        reset_services.reset_send_code(session=session, meta=meta)
        form = CodeForm()
    elif request.method == "POST" and form.is_valid():
        if _limited(request, "reset.verify", "20/10m", session.token_hash):
            return render(request, "accounts/reset/limited.html", status=429)
        with refusal_shown(form=form, field="code") as attempt:
            reset_services.reset_verify(session=session, code=form.cleaned_data["code"], token=form.cleaned_data["token"], meta=meta)
        if not attempt.refused:
            return redirect("reset:new_password")
    return render(request, "accounts/reset/verify.html", {"form": form})


@require_http_methods(["GET", "POST"])
def new_password(request):
    """Step 6: the new password. The user is not signed in afterwards."""
    session = _session(request)
    if session is None or session.verified_at is None:
        return redirect("reset:user_id")
    form = NewPasswordForm(request.POST or None, user=session.user)
    if request.method == "POST" and form.is_valid():
        with refusal_shown(form=form) as attempt:
            reset_services.reset_complete(
                session=session, new_password=form.cleaned_data["new_password2"], meta=RequestMeta.from_request(request)
            )
        if not attempt.refused:
            request.session.pop(TOKEN, None)
            return render(request, "accounts/reset/done.html")
    return render(request, "accounts/reset/new_password.html", {"form": form})


@require_http_methods(["GET", "POST"])
def freeze(request):
    """The "this wasn't me" link: a GET shows a button (mail scanners must not freeze accounts)."""
    token = request.GET.get("token") or request.POST.get("token")
    if request.method == "POST":
        outcome = reset_services.account_freeze(raw_token=token, meta=RequestMeta.from_request(request))
        return render(request, "accounts/reset/frozen.html", {"outcome": outcome})
    return render(request, "accounts/reset/freeze.html", {"token": token})
