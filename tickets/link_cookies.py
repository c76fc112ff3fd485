"""Secret links without secrets in URLs: the emailed link's token is exchanged for a short-lived signed
cookie, scoped to that request's path, and the browser is sent on to the clean URL.

So the token is in the address bar, the server's and the proxy's access logs, the browser's history and
any Referer for one redirect only, never on the page the person reads. The token in the cookie is signed
(Django's signing, salted per purpose and path) and the cookie is HttpOnly, SameSite=Lax, Secure in
production, and lives LINK_COOKIE_MAX_AGE.
"""

import re

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

COOKIE = {"track": "sr_track", "confirm": "sr_confirm", "object": "sr_object"}


def _salt(purpose: str, path: str) -> str:
    return f"tickets.link:{purpose}:{path}"


def token_from(request: HttpRequest, purpose: str, path: str) -> str | None:
    """The link's token: from the emailed URL (about to be exchanged), the form, or the cookie."""
    token = request.GET.get("token") or request.POST.get("token")
    if token:
        return token
    try:
        return request.get_signed_cookie(COOKIE[purpose], salt=_salt(purpose, path), max_age=settings.LINK_COOKIE_MAX_AGE)
    except (KeyError, signing.BadSignature):
        return None


# What a token looks like (secrets.token_urlsafe): anything else is never put in a cookie.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,128}")


def wants_exchange(request: HttpRequest) -> bool:
    """A GET that carries a well-formed token in its URL: answer with the cookie and a redirect to the clean URL."""
    return request.method == "GET" and bool(TOKEN_SHAPE.fullmatch(request.GET.get("token", "")))


def with_link_cookie(response: HttpResponse, purpose: str, path: str, token: str) -> HttpResponse:
    response.set_signed_cookie(
        COOKIE[purpose],
        token,
        salt=_salt(purpose, path),
        max_age=settings.LINK_COOKIE_MAX_AGE,
        path=path,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response


def exchange(purpose: str, path: str, token: str) -> HttpResponse:
    """The redirect to the clean URL, carrying the token in its cookie."""
    return with_link_cookie(HttpResponseRedirect(path), purpose, path, token)


def forget(response: HttpResponse, purpose: str, path: str) -> HttpResponse:
    response.delete_cookie(COOKIE[purpose], path=path, samesite="Lax")
    return response
