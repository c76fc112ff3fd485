class DomainError(Exception):
    """A business rule refused the action. ``message`` is safe to show to the person who tried."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message
