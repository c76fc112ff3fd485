"""Turning a refused action into a message for the person who tried: the one place that does it.

A service refuses with ``DomainError`` (its message is safe to show). Views, console pages and admin
pages run the service inside ``refusal_shown``: a refusal becomes an error next to the field of the
form given (so nothing the person typed is lost), or a page message; the caller asks ``.refused``.

    with refusal_shown(form=form, field="code") as attempt:
        reset_verify(...)
    if not attempt.refused:
        return redirect(...)
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.http import HttpRequest

from .errors import DomainError


@dataclass
class Attempt:
    """What came of running a service: ``refused`` holds the refusal, if any."""

    refused: DomainError | None = None


@contextmanager
def refusal_shown(
    request: HttpRequest | None = None, *, form: forms.Form | None = None, field: str | None = None
) -> Iterator[Attempt]:
    """Run the block; a DomainError becomes an error on ``form`` (at ``field``, or the whole form), or
    else a message on ``request``'s next page, or, given neither, is only recorded for the caller to show
    on a page of its own. Anything else propagates."""
    attempt = Attempt()
    try:
        yield attempt
    except DomainError as exc:
        attempt.refused = exc
        if form is not None:
            form.add_error(field, str(exc.message))
        elif request is not None:
            messages.error(request, exc.message)
