"""Verification checks: the latest of each kind, and whether they make a proof from two channels."""

from dataclasses import dataclass, field

from ..models import CheckKind, CheckOutcome, ServiceRequest, VerificationCheck
from ..policy import ALWAYS_REQUIRED, proof_combinations, shown_checks


def latest_checks(service_request: ServiceRequest) -> dict[str, VerificationCheck]:
    """The latest recorded check of each kind."""
    latest: dict[str, VerificationCheck] = {}
    for check in service_request.checks.select_related("agent").order_by("created_at", "id"):
        latest[check.kind] = check
    return latest


def passed_kinds(service_request: ServiceRequest) -> set[str]:
    return {kind for kind, check in latest_checks(service_request).items() if check.outcome == CheckOutcome.PASSED}


@dataclass
class Proof:
    """Where a request stands against the proof policy."""

    passed: set[str]
    missing_always: list[str]
    # The first combination (in the setting's order) fully passed, or None.
    satisfied_by: frozenset[str] | None
    combinations: list[dict] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing_always and self.satisfied_by is not None


def proof(service_request: ServiceRequest) -> Proof:
    passed = passed_kinds(service_request)
    combos = proof_combinations()
    satisfied = next((c for c in combos if c <= passed), None)
    return Proof(
        passed=passed,
        missing_always=[k for k in ALWAYS_REQUIRED if k not in passed],
        satisfied_by=satisfied,
        combinations=[
            {
                "labels": [CheckKind(k).label for k in CheckKind.values if k in c],
                "missing": [CheckKind(k).label for k in CheckKind.values if k in c and k not in passed],
                "satisfied": c <= passed,
            }
            for c in combos
        ],
    )


def checks_all_passed(service_request: ServiceRequest) -> bool:
    """The confirmed email, the former admin gone, and one full combination of independent channels."""
    return proof(service_request).complete


def checklist(service_request: ServiceRequest) -> list[dict]:
    latest = latest_checks(service_request)
    return [{"kind": kind, "label": CheckKind(kind).label, "check": latest.get(kind)} for kind in shown_checks()]
