"""Demo catalog: real textbooks with their real units and lessons (catalog/demo_data/*.json,
in the same nested JSON shape the platform import reads)."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from catalog import rules

DATA_DIR = Path(__file__).resolve().parent / "demo_data"


def demo_specs() -> list[rules.TextbookSpec]:
    specs: list[rules.TextbookSpec] = []
    for path in sorted(DATA_DIR.glob("*.json")):
        books, errors = rules.parse_platform_json(json.loads(path.read_text(encoding="utf-8")))
        if errors:  # pragma: no cover - the shipped files are checked by the tests
            raise ValueError(f"{path.name}: {errors}")
        specs += books
    return specs


@transaction.atomic
def load():
    """Create (or bring up to date) the demo textbooks. Idempotent."""
    from catalog.services import _apply

    return _apply(None, demo_specs(), "demo").textbooks


def demo_textbooks():
    from catalog.models import Textbook

    ids = []
    for spec in demo_specs():
        dims = dict(zip(("stage", "school_system", "grade", "subject", "version", "volume", "edition"),
                        spec.dimensions, strict=True))
        book = Textbook.objects.filter(**dims).first()
        if book is not None:
            ids.append(book.pk)
    return Textbook.objects.filter(pk__in=ids)


@transaction.atomic
def open_demo_nodes(campaign):
    """Open every leaf of the demo textbooks for the campaign, respecting the
    starting-grade rule (old-edition books of those grades stay closed)."""
    from catalog.models import CatalogNode, OpenNode

    nodes = CatalogNode.objects.filter(textbook__in=demo_textbooks(), is_leaf=True).select_related("textbook")
    facts = [rules.NodeFacts(n.pk, n.is_leaf, n.textbook.stage, n.textbook.grade, n.textbook.edition, n.textbook_id, n.textbook.label)
             for n in nodes]
    decision = rules.decide_opening(facts, campaign.new_textbook_grades)
    OpenNode.objects.bulk_create([OpenNode(campaign=campaign, node_id=pk) for pk in decision.allowed],
                                 ignore_conflicts=True)
    return decision
