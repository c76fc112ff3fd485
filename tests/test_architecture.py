"""Rules of the code's shape that CI keeps, read from the source (import-linter keeps the layering)."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ["accounts", "tickets", "audit", "notifications", "portal"]


def _production_files():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path
    yield ROOT / "gunicorn.conf.py"  # the web server's settings, read from the environment too


def _tree(path):
    return ast.parse(path.read_text(), filename=str(path))


def _status_writes(path):
    """Lines that write a ServiceRequest's status: ``x.status = ...``, ``.update(status=...)``,
    ``.create(status=...)``, ``update_fields=[... "status" ...]``, in a module that deals with requests."""
    source = path.read_text()
    if "ServiceRequest" not in source and "service_request" not in source:
        return []
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "status":
                    found.append(node.lineno)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            writes = node.func.attr in {"update", "create", "get_or_create", "update_or_create", "bulk_create"}
            if writes and any(k.arg == "status" for k in node.keywords):
                found.append(node.lineno)
            for keyword in node.keywords:
                if keyword.arg == "update_fields" and "'status'" in ast.dump(keyword.value).replace('"', "'"):
                    found.append(node.lineno)
    return found


def test_only_the_state_machine_writes_a_request_status():
    writers = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in _production_files()
        for line in _status_writes(path)
        if path.relative_to(ROOT).as_posix() != "tickets/workflow.py"
    }
    assert writers == set(), "change a request's status only through tickets.workflow.transition"


def test_the_status_guard_can_see_a_write(tmp_path):
    """The guard above would notice each way of writing a status."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(sr, ServiceRequest):\n"
        "    sr.status = 'elevated'\n"
        "    ServiceRequest.objects.filter(pk=1).update(status='elevated')\n"
        "    ServiceRequest.objects.create(status='new')\n"
        "    sr.save(update_fields=['status'])\n"
    )
    assert _status_writes(sample) == [2, 3, 4, 5]


ROLE_WORDS = "supervisor|agent|global_admin|user_admin|member|staff|requester|objector|system|user|anonymous"
TEMPLATE_LITERAL = re.compile(rf"(==|!=)\s*[\"']({ROLE_WORDS})[\"']|[\"']({ROLE_WORDS})[\"']\s*(==|!=)")


def test_no_string_literal_compares_a_role_or_an_actor_kind():
    """Roles, staff roles and actor kinds are enums: compare with their members, never a bare string."""
    found = []
    for path in _production_files():
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.Compare):
                continue
            for side in [node.left, *node.comparators]:
                if isinstance(side, ast.Constant) and isinstance(side.value, str) and re.fullmatch(ROLE_WORDS, side.value):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if TEMPLATE_LITERAL.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}")
    assert found == []


def _function_level_imports(path):
    lines = path.read_text().splitlines()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    yield inner.lineno, lines[inner.lineno - 1]


def test_an_import_inside_a_function_says_which_cycle_it_breaks():
    """Imports belong at the top of a module; one inside a function must say why on its line."""
    unexplained = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in [*_production_files(), ROOT / "manage.py"]
        for number, line in _function_level_imports(path)
        if "#" not in line
    ]
    assert unexplained == []


@pytest.mark.parametrize("path", ["docs/operations.md", "docs/security.md", "docs/architecture.md", "docs/state-machine.md"])
def test_the_docs_name_only_settings_and_names_that_exist(path, settings):
    """A name in capitals and backquotes in the docs is a setting, an environment variable the settings read,
    or a name in the code: a renamed one shows up here."""
    text = (ROOT / path).read_text()
    code = "\n".join(p.read_text() for p in _production_files())
    for name in set(re.findall(r"`([A-Z][A-Z0-9_]{3,})`", text)):
        assert hasattr(settings, name) or name in code, f"{path} names {name}, which nothing defines"


def test_views_and_admin_leave_refusals_to_one_place():
    """A service's refusal becomes a message in portal.refusals, not in a try/except of every view."""
    catching = re.compile(r"except\s*\(?[\w., ]*(DomainError|ConsoleError|ResetError|SignInError|SecondFactorError)")
    places = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _production_files()
        if path.name in {"views.py", "admin.py", "console_views.py"} or "views" in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if catching.search(line)
    ]
    assert places == []


def test_services_never_refresh_their_callers_instance():
    """Services return the updated object; the caller decides what to do with its own copy."""
    places = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _production_files()
        if "services" in path.parts or path.name in {"workflow.py", "alerts.py", "notify.py"}
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "refresh_from_db" in line
    ]
    assert places == []
