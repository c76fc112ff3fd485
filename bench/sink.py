"""The SMTP sink: aiosmtpd in a thread of the bench, counting delivered mails by Message-ID."""

import email
import email.policy
import threading
import time

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, sink: "Sink"):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.sink.record(message["Message-ID"] or "", list(envelope.rcpt_tos), message)
        return "250 Message accepted for delivery"


class Sink:
    def __init__(self, port: int):
        self.lock = threading.Lock()
        self.arrivals: dict[str, list[float]] = {}  # Message-ID → the times each copy arrived
        self.by_recipient: dict[str, str] = {}  # the last body sent to each watched address
        self.watched: set[str] = set()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=port)

    def start(self) -> "Sink":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def record(self, message_id: str, recipients: list[str], message) -> None:
        moment = time.time()
        with self.lock:
            self.arrivals.setdefault(message_id, []).append(moment)
            for rcpt in recipients:
                if rcpt in self.watched:
                    part = message.get_body(("plain",))
                    self.by_recipient[rcpt] = part.get_content() if part is not None else ""

    @property
    def delivered(self) -> int:
        with self.lock:
            return sum(len(times) for times in self.arrivals.values())

    @property
    def duplicates(self) -> int:
        with self.lock:
            return sum(len(times) - 1 for times in self.arrivals.values())

    def arrival(self, message_id: str) -> float | None:
        with self.lock:
            times = self.arrivals.get(message_id)
            return times[0] if times else None

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.delivered >= count:
                return True
            time.sleep(0.05)
        return False
