from typing import TYPE_CHECKING

from django.utils.functional import Promise

# What a message can be: a string, or a lazily translated one.
if TYPE_CHECKING:
    from django.utils.functional import _StrPromise  # the stubs' name for gettext_lazy's result

    StrOrPromise = str | _StrPromise
else:
    StrOrPromise = str | Promise


class DomainError(Exception):
    """A business rule refused the action. ``message`` is safe to show to the person who tried."""

    def __init__(self, message: StrOrPromise) -> None:
        super().__init__(str(message))
        self.message = message
