from django.contrib.admin.apps import AdminConfig


class SupportAdminConfig(AdminConfig):
    """django.contrib.admin with the OTP-only support site as ``admin.site`` (Django's documented way
    to override the default admin site). The site's module is imported lazily, after the app registry
    is ready, so this module stays free of model imports."""

    default_site = "accounts.admin_site.SupportAdminSite"
