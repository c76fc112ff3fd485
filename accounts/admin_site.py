from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice


class StaffOTPAuthenticationForm(OTPAdminAuthenticationForm):
    """Password + token in one step: with no device chosen, the token's shape picks it.

    Six digits go to the staff member's authenticator app, anything else to their backup
    codes, so only the device the person meant records a failed attempt.
    """

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        token = (self.cleaned_data.get("otp_token") or "").strip()
        if device is None and token:
            model = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
            device = model.objects.devices_for_user(user, confirmed=True).first()
        return device


def configure_admin_site():
    """Staff sign in to the admin with a password and a one-time token (django-otp)."""
    admin.site.__class__ = OTPAdminSite
    admin.site.login_form = StaffOTPAuthenticationForm
    admin.site.site_header = _("Escalation portal — support")
    admin.site.site_title = _("Escalation portal")
    admin.site.index_title = _("Support desk")
