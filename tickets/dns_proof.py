"""Looking up a requester's domain proof: a TXT record at ``_escalation-portal.<domain>``.

The resolver and timeout are settings (DNS_RESOLVER, DNS_TIMEOUT), so that tests and air-gapped
deployments point it at a server of their own. No cache: each lookup asks again.
"""

from dataclasses import dataclass, field
from datetime import datetime

import dns.exception
import dns.resolver
from django.conf import settings

from portal.clock import now


@dataclass
class Lookup:
    """One lookup: the name asked, the TXT values found, or the error, and who answered when."""

    name: str
    resolver: str
    at: datetime
    values: list[str] = field(default_factory=list)
    error: str = ""

    def found(self, expected: str) -> bool:
        """The exact value is one of the TXT values (never true for an empty ``expected``)."""
        return bool(expected) and expected in self.values

    def describe(self, expected: str = "") -> str:
        """One line for people: when, which name, which resolver, and what it answered or why nothing.

        Given the value expected, says so when the values found are not it.
        """
        answer = "; ".join(f'"{v}"' for v in self.values) if self.values else self.error
        if self.values and expected and not self.found(expected):
            answer += " (not this request's value)"
        return f"{self.at:%Y-%m-%d %H:%M:%S} UTC, {self.name} TXT via {self.resolver}: {answer}"


def record_name(domain: str) -> str:
    return f"{settings.DOMAIN_PROOF_PREFIX}.{domain.strip().rstrip('.').lower()}"


def _server(setting: str) -> tuple[str, int]:
    """``"192.0.2.53"``, ``"192.0.2.53:5353"``, ``"2001:db8::53"`` or ``"[2001:db8::53]:5353"`` -> (address, port)."""
    if setting.startswith("["):
        host, _, port = setting[1:].partition("]:")
        return host.rstrip("]"), int(port or 53)
    if setting.count(":") == 1:  # a bare IPv6 address has several colons
        host, port = setting.split(":")
        return host, int(port)
    return setting, 53


def _resolver() -> tuple[dns.resolver.Resolver, str]:
    """The resolver to ask and its label; raises ValueError for a DNS_RESOLVER that is not an IP address."""
    if settings.DNS_RESOLVER:
        host, port = _server(settings.DNS_RESOLVER.strip())
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host]  # dnspython refuses a host name here (ValueError)
        resolver.port = port
        label = f"{host}:{port}"
    else:
        resolver = dns.resolver.Resolver()
        label = ", ".join(str(ns) for ns in resolver.nameservers) or "system resolver"
    resolver.timeout = resolver.lifetime = settings.DNS_TIMEOUT
    resolver.cache = None
    return resolver, label


def look_up(domain: str) -> Lookup:
    """Ask for the TXT record at ``record_name(domain)``, waiting at most DNS_TIMEOUT seconds.

    Never raises: NXDOMAIN, no TXT, a timeout, a failing resolver or a bad setting are each described in
    ``error``. A record split into several strings is read as their concatenation (RFC 7208 does the same).
    """
    name = record_name(domain)
    try:
        resolver, label = _resolver()
    except dns.resolver.NoResolverConfiguration:
        return Lookup(name=name, resolver="none", at=now(), error="no resolver configured")
    except ValueError:
        return Lookup(
            name=name, resolver=settings.DNS_RESOLVER, at=now(), error="DNS_RESOLVER must be an IP address, optionally with :port"
        )
    lookup = Lookup(name=name, resolver=label, at=now())
    try:
        answer = resolver.resolve(name, "TXT", raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        lookup.error = "NXDOMAIN (no such name)"
    except dns.exception.Timeout:
        lookup.error = f"no answer within {settings.DNS_TIMEOUT:g} s (timeout)"
    except dns.resolver.NoNameservers:
        lookup.error = "the resolver failed (SERVFAIL or refused)"
    except dns.exception.DNSException as exc:
        lookup.error = f"DNS error: {exc.__class__.__name__}"
    else:
        if answer.rrset is not None:
            lookup.values = [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer.rrset]
        if not lookup.values:
            lookup.error = "no TXT record at this name"
    return lookup
