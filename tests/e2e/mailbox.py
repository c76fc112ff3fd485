"""A local SMTP server (aiosmtpd) that keeps every message the portal sends, for the browser journeys.

The tests read the real emails, as a person reads their inbox, and follow the links in them.
"""

import email
import email.policy
import re
import socket
import threading
import time

from aiosmtpd.controller import Controller


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Message:
    def __init__(self, raw: bytes):
        self.parsed = email.message_from_bytes(raw, policy=email.policy.default)
        self.to = [a.strip().lower() for a in str(self.parsed["To"]).split(",")]
        self.subject = str(self.parsed["Subject"])
        part = self.parsed.get_body(preferencelist=("plain",))
        self.body = part.get_content() if part is not None else ""

    def link(self, fragment: str) -> str:
        match = re.search(r"(https?://\S*" + re.escape(fragment) + r"\S*)", self.body)
        assert match, f"no link with {fragment!r} in:\n{self.body}"
        return match.group(1)


class _Handler:
    def __init__(self, box):
        self.box = box

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        with self.box.lock:
            self.box.messages.append(Message(envelope.original_content or envelope.content))
        return "250 OK"


class Mailbox:
    def __init__(self):
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=_free_port())

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    @property
    def address(self):
        return self.controller.hostname, self.controller.port

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if address.lower() in m.to]

    def wait_for(self, address: str, containing: str = "", timeout: float = 30.0) -> Message:
        """The latest message to ``address`` whose body contains ``containing``, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.to(address) if containing in m.body]
            if found:
                return found[-1]
            time.sleep(0.1)
        subjects = [m.subject for m in self.to(address)]
        raise AssertionError(f"no email to {address} containing {containing!r} within {timeout}s; got {subjects}")
