"""Staff and admin sessions end after 30 minutes idle and 12 hours in all."""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from portal.clock import now

from . import policy

IDLE_LIMIT = timedelta(minutes=30)
ABSOLUTE_LIMIT = timedelta(hours=12)
# The last request's time is written at most this often: a write on every request made each staff page save
# the session (an UPDATE), and the idle limit needs no finer clock. A session may end up to this much early.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


class PrivilegedSessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and policy.requires_second_factor(user):
            moment = now().timestamp()
            started = request.session.get("auth_at", moment)
            last = request.session.get("last_seen", started)  # idle since sign-in if no request came since
            if moment - last > IDLE_LIMIT.total_seconds() or moment - started > ABSOLUTE_LIMIT.total_seconds():
                logout(request)
                messages.info(request, _("Your session has ended; please sign in again."))
                login_url = "/admin/login/" if request.path.startswith("/admin/") else "/login/"
                return redirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")
            if "auth_at" not in request.session:
                request.session["auth_at"] = started
            if "last_seen" not in request.session or moment - last >= LAST_SEEN_RESOLUTION.total_seconds():
                request.session["last_seen"] = moment
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """A user given a temporary password goes nowhere but the security page until they choose their own."""

    ALLOWED_PREFIXES = ("/account/security/", "/logout/", "/static/", "/i18n/", "/login/backup-codes/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.must_change_password
            and not request.path.startswith(self.ALLOWED_PREFIXES)
        ):
            return redirect("accounts:security")
        return self.get_response(request)
