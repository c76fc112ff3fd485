"""A DNS server of a test's own on 127.0.0.1 (dnslib), answering TXT questions from a dict the test changes.

``records`` maps a name (no trailing dot, any case) to its TXT values: a name not in it answers NXDOMAIN,
a name mapped to ``[]`` answers NOERROR with no TXT. A value is a string, or a tuple of strings for one
record split into several character-strings (as DNS providers do with long values). ``silent = True``
makes the server read questions and never answer (the timeout case); ``failing`` holds names that answer
SERVFAIL. ``asked`` lists the (name, type) of every question received, so a test can see the lookup happen,
and ``protocols`` how each came ("udp", "tcp"). It listens on the same free port over UDP and TCP: like a
classic server, it truncates UDP answers over 512 bytes, and the client must ask again over TCP.
"""

import logging
import socket
import threading

from dnslib import QTYPE, RCODE, RR, TXT, DNSRecord
from dnslib.server import DNSHandler, DNSLogger, DNSServer

log = logging.getLogger(__name__)


def _name(name) -> str:
    return str(name).rstrip(".").lower()


class RecordsResolver:
    """dnslib's resolver interface: ``resolve(request, handler)`` returns the reply."""

    def __init__(self):
        self.records: dict[str, list] = {}
        self.failing: set[str] = set()
        self.silent = False
        self.asked: list[tuple[str, str]] = []
        self.protocols: list[str] = []

    def note(self, request, protocol: str) -> str:
        name = _name(request.q.qname)
        self.asked.append((name, QTYPE[request.q.qtype]))
        self.protocols.append(protocol)
        return name

    def resolve(self, request, handler):
        name = self.note(request, handler.protocol)
        reply = request.reply()
        if name in self.failing:
            reply.header.rcode = RCODE.SERVFAIL
        elif name not in self.records:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype in (QTYPE.TXT, QTYPE.ANY):
            for value in self.records[name]:
                strings = list(value) if isinstance(value, tuple) else [value]
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, ttl=60, rdata=TXT(strings)))
        return reply


class _Handler(DNSHandler):
    def get_reply(self, data):
        reply = super().get_reply(data)
        if self.protocol == "udp" and len(reply) > 512:
            # Too long for classic UDP: the header and question only, with TC set; the client asks over TCP.
            # (dnslib's own truncate() drops the question too, and dnspython ignores such an answer.)
            truncated = DNSRecord.parse(data).reply()
            truncated.header.tc = 1
            reply = truncated.pack()
        return reply

    def handle(self):
        if self.server.resolver.silent:
            # Read, never answered: the client waits until its timeout.
            if self.server.socket_type == socket.SOCK_DGRAM:
                self.server.resolver.note(DNSRecord.parse(self.request[0]), "udp")
            return
        super().handle()


class _QuietLogger(DNSLogger):
    """dnslib prints every packet to stdout; keep only errors, in the test's log."""

    def __init__(self):
        super().__init__(log="-recv,-send,-request,-reply,-truncated,-data", logf=log.warning)


class TestDNSServer:
    """Start with ``start()``, point the resolver setting at ``address``, stop with ``stop()``."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self):
        self.resolver = RecordsResolver()
        self._servers: list[DNSServer] = []
        self.port = 0

    # What the test changes.
    @property
    def records(self) -> dict[str, list]:
        return self.resolver.records

    @property
    def asked(self) -> list[tuple[str, str]]:
        return self.resolver.asked

    @property
    def protocols(self) -> list[str]:
        return self.resolver.protocols

    @property
    def silent(self) -> bool:
        return self.resolver.silent

    @silent.setter
    def silent(self, value: bool) -> None:
        self.resolver.silent = value

    @property
    def failing(self) -> set[str]:
        return self.resolver.failing

    def publish(self, name: str, *values) -> None:
        """Set the TXT values at ``name`` (no values: the name exists, with no TXT)."""
        self.records[_name(name)] = list(values)

    def remove(self, name: str) -> None:
        """The name no longer exists (NXDOMAIN)."""
        self.records.pop(_name(name), None)

    @property
    def address(self) -> str:
        """The value for settings.DNS_RESOLVER."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> "TestDNSServer":
        for _attempt in range(20):
            udp = DNSServer(self.resolver, address="127.0.0.1", port=0, logger=_QuietLogger(), handler=_Handler)
            port = udp.server.server_address[1]
            try:
                tcp = DNSServer(self.resolver, address="127.0.0.1", port=port, tcp=True, logger=_QuietLogger(), handler=_Handler)
            except OSError:  # the port is free over UDP but taken over TCP: try another
                udp.server.server_close()
                continue
            self.port, self._servers = port, [udp, tcp]
            for server in self._servers:
                # A short poll interval: stopping waits for the loop to notice (0.5 s by default).
                threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
            return self
        raise RuntimeError("no free port for the test DNS server")

    def stop(self) -> None:
        for server in self._servers:
            server.server.shutdown()
            server.server.server_close()
        self._servers = []


class BlackHole:
    """A UDP socket on 127.0.0.1 that receives questions and never reads or answers them."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.sock.close()
