"""Selection announces its decisions; the apps above it listen (layers point one way)."""

import ast
from pathlib import Path

import selection
from selection import services, signals
from selection.models import Entry
from selection.tests.helpers import entry_at

APPS_ABOVE = ("notifications", "review", "awards", "reports", "portal", "api")


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_selection_imports_no_app_above_it():
    root = Path(selection.__file__).parent
    offenders = sorted(
        f"{path.relative_to(root)}: {module}"
        for path in root.rglob("*.py") if "tests" not in path.parts and "migrations" not in path.parts
        for module in _imported_modules(path) if module.split(".")[0] in APPS_ABOVE)
    assert offenders == []


def test_a_decision_is_announced_with_what_happened(tree, make_course):
    course = make_course()
    heard = []

    def listener(sender, **kwargs):
        heard.append((sender, kwargs["entry"].pk, kwargs["action"], kwargs["actor"], kwargs["before"]["state"]))

    signals.entry_decided.connect(listener, dispatch_uid="test.listener")
    try:
        entry = services.decide(tree.school_admin, entry_at(course, "school").pk, "decline", reason="不够好")
    finally:
        signals.entry_decided.disconnect(dispatch_uid="test.listener")
    assert heard == [(Entry, entry.pk, "decline", tree.school_admin, "pending")]


def test_notifications_listen_to_the_announcement():
    receivers = [r for r in signals.entry_decided.receivers if r[0][0] == "notifications.entry_decided"]
    assert len(receivers) == 1
