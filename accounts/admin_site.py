from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite


class SupportAdminSite(OTPAdminSite):
    """The agents' admin: OTP-verified staff only. Sign-in happens at /login/, never here.

    /login/ is the one place with the lockout, the freeze, the rate limits and second-factor
    enrolment; an admin login form of its own would be a second, weaker door.

    Installed as ``admin.site`` by ``portal.apps.SupportAdminConfig`` (its ``default_site``).
    """

    site_header = _("Escalation portal — support")
    site_title = _("Escalation portal")
    index_title = _("Support desk")

    def __init__(self, name="admin"):
        # "admin", not django-otp's "otpadmin": this is the default site, reversed as "admin:...".
        super().__init__(name)

    def get_app_list(self, request, app_label=None):
        """The "Service requests" caption leads straight to the queue, not to a page listing one model."""
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            queue = [m for m in app["models"] if m["object_name"] == "ServiceRequest" and m.get("admin_url")]
            if app["app_label"] == "tickets" and queue:
                app["app_url"] = queue[0]["admin_url"]
        return app_list

    def login(self, request, extra_context=None):
        if request.user.is_authenticated and not request.user.is_verified():
            # Signed in without a second factor (e.g. made staff since): sign in again, with one.
            logout(request)
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(next_url, reverse("accounts:login"))
