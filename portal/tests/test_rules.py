from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from portal.rules import next_steps

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 9, 1, 9, 0, tzinfo=TZ)


def dl(day, month=9):
    return datetime(2024, month, day, 23, 59, 59, tzinfo=TZ)


def test_county_admin_steps_in_due_order():
    deadlines = {"county": {"deadline": dl(20), "contact_form_deadline": dl(26, 8), "confirm_deadline": None}}
    steps = next_steps("county_admin", deadlines, NOW)
    assert [(s.key, s.due) for s in steps] == [
        ("screen", dl(20)),
        ("people", None),
        ("contact_form", dl(26, 8)),  # already past: listed last, flagged overdue
    ]
    assert steps[0].text == "审核下级推荐的课程，在名额内向市推荐"
    assert steps[-1].is_overdue(NOW)


def test_city_owned_school_recommends_to_the_city():
    steps = next_steps("school_admin", {"school": {"deadline": dl(10)}}, NOW, next_level="city")
    assert [s.text for s in steps if s.key == "screen"] == ["审核本校教师的申报，择优向市推荐"]


def test_county_school_recommends_to_the_county():
    steps = next_steps("school_admin", {"school": {"deadline": dl(10)}}, NOW, next_level="county")
    assert [s.text for s in steps if s.key == "screen"] == ["审核本校教师的申报，择优向区县推荐"]


def test_owner_admin_is_asked_to_configure():
    steps = next_steps("city_admin", {"city": {"deadline": dl(27), "confirm_deadline": dl(30)}}, NOW, owner_admin=True)
    assert [s.key for s in steps] == ["screen", "confirm", "configure", "open_nodes", "people"]


def test_teacher_due_is_the_school_deadline():
    steps = next_steps("teacher", {"school": {"deadline": dl(5)}}, NOW)
    assert [(s.key, s.due) for s in steps] == [("declare", dl(5)), ("catalog", None)]


@given(st.lists(st.integers(min_value=-30, max_value=30), min_size=1, max_size=3))
def test_open_steps_come_before_overdue_ones_and_by_date(offsets):
    kinds = ["deadline", "contact_form_deadline", "confirm_deadline"]
    facts = {"county": {k: NOW + timedelta(days=o) for k, o in zip(kinds, offsets)}}
    steps = next_steps("county_admin", facts, NOW)
    flags = [s.is_overdue(NOW) for s in steps]
    assert flags == sorted(flags)  # all open ones first
    open_dated = [s.due for s in steps if s.due and not s.is_overdue(NOW)]
    assert open_dated == sorted(open_dated)
