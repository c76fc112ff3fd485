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
        return bool(expected) and expected in self.values

    def describe(self) -> str:
        answer = "; ".join(f'"{v}"' for v in self.values) if self.values else self.error
        return f"{self.at:%Y-%m-%d %H:%M:%S} UTC, {self.name} TXT via {self.resolver}: {answer}"


def record_name(domain: str) -> str:
    return f"{settings.DOMAIN_PROOF_PREFIX}.{domain.strip().rstrip('.').lower()}"


def _resolver() -> tuple[dns.resolver.Resolver, str]:
    if settings.DNS_RESOLVER:
        host, port = settings.DNS_RESOLVER, 53
        if host.count(":") == 1:  # "host:port"; a bare IPv6 address has several colons
            host, port_text = host.split(":")
            port = int(port_text)
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = port
        label = f"{host}:{port}"
    else:
        resolver = dns.resolver.Resolver()
        label = ", ".join(str(ns) for ns in resolver.nameservers) or "system resolver"
    resolver.timeout = resolver.lifetime = settings.DNS_TIMEOUT
    resolver.cache = None
    return resolver, label


def look_up(domain: str) -> Lookup:
    """Ask for the TXT record; never raises (each failure is described in ``error``)."""
    name = record_name(domain)
    try:
        resolver, label = _resolver()
    except dns.resolver.NoResolverConfiguration:
        return Lookup(name=name, resolver="none", at=now(), error="no resolver configured")
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
