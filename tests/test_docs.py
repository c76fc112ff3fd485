"""The docs an operator reads stay true: the variables they name and the numbers they give match the code."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()


def _variables_read(settings_file):
    return set(re.findall(r"""\benv\.\w+\(\s*["']([A-Z][A-Z0-9_]*)["']""", (ROOT / "portal" / "settings" / settings_file).read_text()))


@pytest.mark.parametrize("settings_file", ["base.py", "local.py", "production.py"])
def test_every_variable_the_settings_read_is_in_the_operations_page(settings_file):
    variables = _variables_read(settings_file)
    assert variables, "the pattern no longer finds the settings' variables"
    missing = sorted(name for name in variables if f"`{name}`" not in OPERATIONS)
    assert not missing, f"docs/operations.md does not name {missing}"


def test_beat_jobs_and_their_intervals_are_the_ones_on_the_operations_page():
    documented = dict(re.findall(r"^\| `(\w+)` \| (\d+) min \|", OPERATIONS, flags=re.MULTILINE))
    scheduled = {entry["task"].rsplit(".", 1)[1]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {name: int(minutes) * 60 for name, minutes in documented.items()} == scheduled


def test_outbox_attempts_and_retries_are_the_ones_on_the_operations_page():
    from notifications.tasks import outbox_deliver

    assert f"After {settings.OUTBOX_MAX_ATTEMPTS} attempts" in OPERATIONS
    assert f"up to {outbox_deliver.max_retries} times" in OPERATIONS
    assert outbox_deliver.autoretry_for == (OperationalError,)
