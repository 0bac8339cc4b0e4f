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
    facts = {"county": {k: NOW + timedelta(days=o) for k, o in zip(kinds, offsets, strict=False)}}
    steps = next_steps("county_admin", facts, NOW)
    flags = [s.is_overdue(NOW) for s in steps]
    assert flags == sorted(flags)  # all open ones first
    open_dated = [s.due for s in steps if s.due and not s.is_overdue(NOW)]
    assert open_dated == sorted(open_dated)


def test_admin_whose_level_the_campaign_does_not_reach_is_told_so():
    steps = next_steps("province_admin", {}, NOW, levels=["school", "county", "city"], owner_name="湛江市")
    assert [(s.key, s.text) for s in steps] == [
        ("people", "导入或核对下级单位与管理员账号"),
        ("no_deadline", "本活动由湛江市主办，只到市级，不经过省级：本级无需审核和推荐，可查看各地进度。"),
    ]


def test_level_without_dates_shows_what_the_level_below_owes():
    below = {"city": {"deadline": dl(27), "confirm_deadline": dl(30), "contact_form_deadline": None}}
    steps = next_steps("province_admin", {"province": {}}, NOW, levels=["school", "county", "city", "province"],
                       all_levels=below)
    assert [(s.key, s.due) for s in steps] == [
        ("receive", dl(27)), ("receive_confirm", dl(30)), ("people", None), ("screen", None)]
    assert steps[1].text == "各市确认推荐汇总表截止"


def test_non_owner_told_who_sets_the_missing_deadline():
    steps = next_steps("county_admin", {"county": {}}, NOW, levels=["school", "county", "city"], owner_name="湛江市")
    assert steps[-1].text == "本活动尚未设置区县级的截止时间：由主办单位湛江市设置后，这里会显示。"
    assert steps[-1].url_name is None
