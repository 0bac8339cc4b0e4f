"""The progress board's counters (selection/tally.py): whatever happens to the entries (saves,
``QuerySet.update``, bulk inserts, deletes, a rolled-back change; in any order, hypothesis picks),
the counters equal a recount of the entries; ``rebuild_tallies`` repairs them and ``--check``
finds a difference. On SQLite and PostgreSQL (the triggers are each vendor's own)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.lists import seed
from selection import tally
from selection.models import Entry, EntryState, EntryTally, NodeTally

pytestmark = pytest.mark.django_db

STATES = list(EntryState.values)


@pytest.fixture
def city(db):
    s = seed(40, counties=2, schools_per_county=3)
    Entry.objects.update(node_exclusive=False)  # let any entry be recommended on any node
    return s


def test_bulk_inserted_entries_are_counted(city):
    assert Entry.objects.count() > 40
    assert tally.differences() == []
    school = city.schools[0]
    held = Entry.objects.filter(campaign=city.campaign, unit=school)
    counted = sum(EntryTally.objects.filter(campaign_id=city.campaign.pk, unit_id=school.pk).values_list("n", flat=True))
    assert counted == held.count() > 0


class Boom(Exception):
    pass


OPERATION = st.one_of(
    st.tuples(st.just("state"), st.integers(0, 10_000), st.sampled_from(STATES)),
    st.tuples(st.just("award"), st.integers(0, 10_000), st.booleans()),
    st.tuples(st.just("update_state"), st.integers(0, 10_000), st.sampled_from(STATES)),
    st.tuples(st.just("unit"), st.integers(0, 10_000), st.integers(0, 10_000)),
    st.tuples(st.just("node"), st.integers(0, 10_000), st.integers(0, 10_000)),
    st.tuples(st.just("delete"), st.integers(0, 10_000), st.none()),
    st.tuples(st.just("reinsert"), st.integers(0, 10_000), st.none()),
    st.tuples(st.just("rollback"), st.integers(0, 10_000), st.sampled_from(STATES)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(OPERATION, min_size=1, max_size=8))
def test_the_counters_equal_a_recount_after_any_changes(city, operations):
    ids = list(Entry.objects.order_by("pk").values_list("pk", flat=True))
    units = [u.pk for u in city.schools] + [city.county.pk, city.city.pk]
    for op, i, arg in operations:
        entry = Entry.objects.filter(pk=ids[i % len(ids)]).first()
        if entry is None:
            continue
        if op == "state":
            entry.state = arg
            entry.save()
        elif op == "award":
            Entry.objects.filter(pk=entry.pk).update(awarded=arg)
        elif op == "update_state":
            Entry.objects.filter(unit_id=entry.unit_id).update(state=arg)
        elif op == "unit":
            Entry.objects.filter(pk=entry.pk).update(unit_id=units[arg % len(units)])
        elif op == "node":
            Entry.objects.filter(pk=entry.pk).update(node=city.nodes[arg % len(city.nodes)])
        elif op == "delete":
            entry.delete()
        elif op == "reinsert":
            entry.delete()
            entry.pk = None
            (entry,) = Entry.objects.bulk_create([entry])
            ids.append(entry.pk)
        elif op == "rollback":
            with pytest.raises(Boom), transaction.atomic():
                Entry.objects.filter(pk=entry.pk).update(state=arg, awarded=True)
                Entry.objects.filter(unit_id=entry.unit_id).delete()
                raise Boom
        assert tally.differences() == [], (op, arg)


def test_the_node_counter_counts_live_entries_on_a_node(city):
    school = city.schools[0]
    held = list(Entry.objects.filter(campaign=city.campaign, unit=school).order_by("pk")[:3])
    node = city.nodes[0]
    Entry.objects.filter(pk__in=[e.pk for e in held]).update(node=node, state=EntryState.PENDING)
    row = NodeTally.objects.get(campaign_id=city.campaign.pk, unit_id=school.pk, node_id=node.pk)
    live_before = Entry.objects.filter(campaign=city.campaign, unit=school, node=node,
                                       state__in=[EntryState.PENDING, EntryState.RECOMMENDED]).count()
    assert row.n == live_before >= 3
    Entry.objects.filter(pk=held[0].pk).update(state=EntryState.DECLINED)
    row.refresh_from_db()
    assert row.n == live_before - 1


def test_rebuild_repairs_and_check_finds_differences(city):
    EntryTally.objects.filter(unit_id=city.schools[0].pk).update(n=999)
    NodeTally.objects.filter(unit_id=city.schools[1].pk).delete()
    assert tally.differences() != []
    with pytest.raises(CommandError):
        call_command("rebuild_tallies", "--check")
    call_command("rebuild_tallies")
    assert tally.differences() == []
    call_command("rebuild_tallies", "--check")


def test_triggers_dropped_by_a_table_remake_come_back_after_migrate(city):
    """SQLite drops a table's triggers when a migration remakes it; the post_migrate receiver
    (``tally.ensure_triggers``) puts them back, and the counters follow changes again."""
    from django.db import connection

    tally.uninstall(connection)
    held = Entry.objects.filter(campaign=city.campaign, unit=city.schools[0]).order_by("pk")
    Entry.objects.filter(pk=held[0].pk).update(state=EntryState.DECLINED)
    assert tally.differences() != []  # no triggers: the change went uncounted
    call_command("rebuild_tallies")
    tally.ensure_triggers(using="default")
    Entry.objects.filter(pk=held[1].pk).update(state=EntryState.DECLINED)
    Entry.objects.filter(pk=held[2].pk).delete()
    assert tally.differences() == []
