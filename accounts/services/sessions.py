"""Tracking a user's sessions so that security changes can end the other ones."""

from django.contrib.sessions.models import Session

from audit.services import RequestMeta

from ..models import User, UserSession


def session_register(*, user: User, session_key: str, meta: RequestMeta) -> None:
    UserSession.objects.update_or_create(
        session_key=session_key,
        defaults={"user": user, "ip_address": meta.ip_address, "user_agent": meta.user_agent},
    )


def sessions_end_others(*, user: User, keep_session_key: str | None) -> int:
    """End every session of ``user`` except ``keep_session_key``. Returns how many were ended."""
    others = UserSession.objects.filter(user=user)
    if keep_session_key:
        others = others.exclude(session_key=keep_session_key)
    keys = list(others.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    others.delete()
    return len(keys)
