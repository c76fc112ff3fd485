"""Audit events as people read them: who, on whom or what, and what happened, in the reader's language.

The one place that turns an event's action code and its before/after dicts into words, for the console's
audit log and the agents' panel in the admin. An action with its own wording is in ``DETAILS``; any
other shows each changed value as "Field: before → after", named by the target model's field when there
is one. audit knows nothing of the domain apps: models and their choices are looked up by label.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .actions import AuditAction
from .models import AuditEvent

# Keys that name no model field, and keys whose field name would read badly.
KEY_LABELS = {
    "mode": gettext_lazy("How"),
    "reason": gettext_lazy("Reason"),
    "note": gettext_lazy("Note"),
    "allowed": gettext_lazy("May reset their own password"),
    "user": gettext_lazy("User"),
    "count": gettext_lazy("Failed attempts in a row"),
    "method": gettext_lazy("Method"),
    "by": gettext_lazy("By"),
    "device": gettext_lazy("Device"),
    "evidence": gettext_lazy("Evidence files"),
    "attachments": gettext_lazy("Attachments"),
    "name": gettext_lazy("Name"),
    "message": gettext_lazy("Message"),
    "decision": gettext_lazy("Decision"),
    "effective_at": gettext_lazy("Takes effect"),
    "linked_to": gettext_lazy("Linked to"),
    "concurrent_with": gettext_lazy("Other open requests"),
    "admins": gettext_lazy("Active admins"),
    "wrong_codes_in_a_row": gettext_lazy("Wrong codes in a row"),
    "usable": gettext_lazy("Password usable"),
    "activated": gettext_lazy("Account turned on"),
}
# Internal keys (ids, DNS answers) that tell a reader nothing.
HIDDEN_KEYS = {"objection", "objections", "evidence_ids", "answer", "resolver", "why_told"}

# The foreign key that names a target which has no name of its own (a membership: its user).
TARGET_PEOPLE = frozenset({"user"})

MODES = {"temporary": gettext_lazy("a temporary password"), "link": gettext_lazy("a reset link by email")}


@dataclass
class EventView:
    event: AuditEvent
    actor: str
    target: str
    sentence: str
    details: list[str] = field(default_factory=list)


def present_events(events: Iterable[AuditEvent]) -> list[EventView]:
    """Each event in words; the targets are read with one query per kind of target."""
    events = list(events)
    targets = _targets(events)
    return [_present(e, targets.get((e.target_type, e.target_id))) for e in events]


def _targets(events: list[AuditEvent]) -> dict[tuple[str, str], models.Model]:
    ids: dict[str, set[str]] = defaultdict(set)
    for e in events:
        ids[e.target_type].add(e.target_id)
    found: dict[tuple[str, str], models.Model] = {}
    for label, pks in ids.items():
        model = _model(label)
        if model is None:
            continue
        queryset = model._default_manager.all()
        # A membership is named by its person: read them in the same query.
        to_one = [f.name for f in model._meta.get_fields() if f.is_relation and f.many_to_one and f.name in TARGET_PEOPLE]
        queryset = queryset.select_related(*to_one)
        try:
            for obj in queryset.filter(pk__in=pks):
                found[(label, str(obj.pk))] = obj
        except (ValueError, TypeError):  # an id of another type than the model's key
            continue
    return found


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def target_name(obj: models.Model | None, event: AuditEvent) -> str:
    if obj is None:
        return event.after.get("user") or event.before.get("user") or f"{event.target_type} #{event.target_id}"
    for attribute in ("reference", "email"):
        value = getattr(obj, attribute, None)
        if value:
            return str(value)
    user = getattr(obj, "user", None)
    if user is not None and getattr(user, "email", None):
        return str(user.email)
    return str(obj)


def actor_name(event: AuditEvent) -> str:
    if event.actor_id is None and event.actor_label in ("", "system"):
        return _("the portal")
    return event.actor_label


def _present(event: AuditEvent, target: models.Model | None) -> EventView:
    if event.action in AuditAction.values:
        sentence = capfirst(str(AuditAction(event.action).label))
    else:
        sentence = _("Did “%(action)s”") % {"action": event.action}
    describe = DETAILS.get(event.action, _changes)
    return EventView(
        event=event,
        actor=actor_name(event),
        target=target_name(target, event),
        sentence=sentence,
        details=describe(event),
    )


def value_text(event: AuditEvent, key: str, value: Any) -> str:
    """A stored value in words: a choice's label, yes/no, a list joined, a dash for nothing."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(value_text(event, key, v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{key_label(event, k)}: {value_text(event, k, v)}" for k, v in value.items())
    model_field = _field(event, key)
    if model_field is not None and model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    return str(value)


def key_label(event: AuditEvent, key: str) -> str:
    if key in KEY_LABELS:
        return str(KEY_LABELS[key])
    model_field = _field(event, key)
    if model_field is not None:
        return capfirst(str(model_field.verbose_name))
    return capfirst(key.replace("_", " "))


def _field(event: AuditEvent, key: str) -> Any:
    model = _model(event.target_type)
    if model is None:
        return None
    try:
        found = model._meta.get_field(key)
    except FieldDoesNotExist:
        return None
    return found if getattr(found, "concrete", False) else None  # not a reverse relation (e.g. "evidence")


def _changes(event: AuditEvent) -> list[str]:
    """Every value the event records: "Field: before → after" when it changed, "Field: value" otherwise."""
    lines = []
    for key in list(dict.fromkeys([*event.before, *event.after])):
        if key in HIDDEN_KEYS:
            continue
        if key in event.before and key in event.after:
            old, new = event.before[key], event.after[key]
            if old == new:
                continue
            lines.append(f"{key_label(event, key)}: {value_text(event, key, old)} → {value_text(event, key, new)}")
        elif key in event.after:
            lines.append(f"{key_label(event, key)}: {value_text(event, key, event.after[key])}")
        else:
            lines.append(f"{key_label(event, key)}: {value_text(event, key, event.before[key])} → —")
    return lines


def _reset_by_admin(event: AuditEvent) -> list[str]:
    mode = event.after.get("mode")
    if mode in MODES:
        return [str(format_lazy(gettext_lazy("Sent {how}"), how=MODES[mode]))]
    return _changes(event)


def _role_changed(event: AuditEvent) -> list[str]:
    before, after = (value_text(event, "role", side.get("role")) for side in (event.before, event.after))
    lines = [f"{key_label(event, 'role')}: {before} → {after}"]
    if event.after.get("reason"):
        lines.append(f"{key_label(event, 'reason')}: {event.after['reason']}")
    return lines


DETAILS: dict[str, Callable[[AuditEvent], list[str]]] = {
    AuditAction.PASSWORD_RESET_BY_ADMIN: _reset_by_admin,
    AuditAction.ROLE_CHANGED: _role_changed,
}
