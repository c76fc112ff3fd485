"""The docs an operator or a newcomer reads first stay true: what they name exists, what they count matches."""

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


def test_every_variable_the_test_settings_read_is_in_the_contributing_guide():
    contributing = (ROOT / "CONTRIBUTING.md").read_text()
    missing = sorted(name for name in _variables_read("test.py") if f"`{name}`" not in contributing)
    assert not missing, f"CONTRIBUTING.md does not name {missing}"


def test_beat_jobs_and_their_intervals_are_the_ones_on_the_operations_page():
    documented = dict(re.findall(r"^\| `(\w+)` \| (\d+) min \|", OPERATIONS, flags=re.MULTILINE))
    scheduled = {entry["task"].rsplit(".", 1)[1]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {name: int(minutes) * 60 for name, minutes in documented.items()} == scheduled


def test_outbox_attempts_and_retries_are_the_ones_on_the_operations_page():
    from notifications.tasks import outbox_deliver

    assert f"After {settings.OUTBOX_MAX_ATTEMPTS} attempts" in OPERATIONS
    assert f"up to {outbox_deliver.max_retries} times" in OPERATIONS
    assert outbox_deliver.autoretry_for == (OperationalError,)


DOCUMENTS = ["Makefile", "README.md", "CONTRIBUTING.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("source", DOCUMENTS)
def test_markdown_files_named_in_the_makefile_and_docs_exist(source):
    text = (ROOT / source).read_text()
    named = set(re.findall(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.md)\b", text))
    base = (ROOT / source).parent
    missing = sorted(name for name in named if not (ROOT / name).exists() and not (base / name).exists())
    assert not missing, f"{source} names {missing}, which do not exist"
