from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Service requests")

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
