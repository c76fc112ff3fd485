from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Service requests")

    def ready(self):
        from accounts.notify import support_alert_recipients_register  # after the apps are loaded
        from notifications.signals import outbox_failed  # receivers are connected once the apps are loaded

        from . import checks  # noqa: F401  (registers the system checks)
        from .receivers import supervisors_told_of_failed_email  # needs the models: after the apps are loaded
        from .selectors import support_supervisors  # needs the models: after the apps are loaded

        outbox_failed.connect(supervisors_told_of_failed_email, dispatch_uid="tickets.supervisors_told_of_failed_email")
        # accounts' alerts for support (a freeze of a tenant's only global admin) go to the supervisors.
        support_alert_recipients_register(support_supervisors)
