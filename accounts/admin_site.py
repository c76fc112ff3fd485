from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite


def configure_admin_site():
    """Staff sign in to the admin with a password and a one-time token (django-otp)."""
    admin.site.__class__ = OTPAdminSite
    admin.site.site_header = _("Escalation portal — support")
    admin.site.site_title = _("Escalation portal")
    admin.site.index_title = _("Support desk")
