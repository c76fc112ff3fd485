"""What the outbox tells the apps above it, which it may not import (import-linter)."""

from django.dispatch import Signal

# Sent with ``message`` (an OutboxMessage) inside the transaction that marks it failed for good. The
# domain apps know who should hear of it; they call ``notifications.services.outbox_failure_alert``.
outbox_failed = Signal()
