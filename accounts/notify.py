"""Telling a tenant's admins, or support. Called inside the transaction of the change (outbox rows)."""

import logging
from collections.abc import Callable, Iterable

from django.conf import settings

from notifications.services import outbox_enqueue

from . import selectors
from .models import Tenant, User

logger = logging.getLogger(__name__)


def tell_tenant_admins(
    tenant: Tenant, *, template: str, context: dict, exclude=(), secrets=None, target=None, roles=selectors.ADMIN_ROLES
) -> None:
    """One email per active admin of ``tenant`` holding one of ``roles`` (but ``exclude``), in each admin's language."""
    for admin in selectors.tenant_admins(tenant, roles=roles).exclude(pk__in=[u.pk for u in exclude if u is not None]):
        outbox_enqueue(
            template=template,
            to_email=admin.email,
            language=admin.preferred_language,
            context={**context, "tenant": tenant.legal_name},
            secrets=secrets,
            target=target or tenant,
        )


# Who support's alerts go to. accounts knows nothing of support's teams (tickets owns them and may not be
# imported here): tickets registers a source of people at start-up (tickets.apps), and SUPPORT_ALERT_EMAIL,
# if set, adds a shared mailbox.
_support_sources: list[Callable[[], Iterable[User]]] = []


def support_alert_recipients_register(source: Callable[[], Iterable[User]]) -> None:
    """Register ``source``, called at each alert, returning the people support's alerts go to."""
    if source not in _support_sources:
        _support_sources.append(source)


def tell_support(*, template: str, context: dict, target=None) -> int:
    """One email per person registered for support's alerts, and to SUPPORT_ALERT_EMAIL. Returns how many."""
    sent = 0
    for source in _support_sources:
        for person in source():
            outbox_enqueue(
                template=template, to_email=person.email, language=person.preferred_language, context=context, target=target
            )
            sent += 1
    mailbox = getattr(settings, "SUPPORT_ALERT_EMAIL", "")
    if mailbox:
        outbox_enqueue(template=template, to_email=mailbox, language=settings.LANGUAGE_CODE, context=context, target=target)
        sent += 1
    if not sent:
        logger.error("support alert %s reached nobody: no supervisor registered and no SUPPORT_ALERT_EMAIL", template)
    return sent
