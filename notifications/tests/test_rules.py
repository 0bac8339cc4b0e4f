"""Pure decisions: which deadline reminder is due now, who needs one, the reminder rate limit."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from notifications import rules
from notifications.rules import DEADLINE_WINDOWS, Due, UnitFacts

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 9, 17, 9, 0, tzinfo=TZ)
DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def test_windows_and_interval_are_campaign_independent_constants():
    assert DEADLINE_WINDOWS == (timedelta(days=3), timedelta(days=1))
    assert rules.REMIND_INTERVAL == timedelta(hours=1)


def test_window_for():
    assert rules.window_for(NOW, None) is None
    assert rules.window_for(NOW, NOW - timedelta(seconds=1)) is None  # passed
    assert rules.window_for(NOW, NOW + 3 * DAY + timedelta(seconds=1)) is None  # not yet
    assert rules.window_for(NOW, NOW + 3 * DAY) == 3 * DAY
    assert rules.window_for(NOW, NOW + DAY + timedelta(seconds=1)) == 3 * DAY
    assert rules.window_for(NOW, NOW + DAY) == DAY
    assert rules.window_for(NOW, NOW) == DAY  # its own second still counts
    assert rules.window_for(NOW, NOW + HOUR, windows=()) is None


def test_deadlines_on_the_same_moment_share_one_reminder():
    county_day = NOW + 2 * DAY
    due = rules.due_deadlines({"deadline": county_day, "confirm_deadline": county_day,
                               "contact_form_deadline": NOW + 10 * HOUR}, NOW)  # (the form comes alone in practice)
    assert due == [Due(("contact_form_deadline",), NOW + 10 * HOUR, DAY),
                   Due(("deadline", "confirm_deadline"), county_day, 3 * DAY)]
    assert rules.due_deadlines({"deadline": NOW + 5 * DAY, "confirm_deadline": None}, NOW) == []


def test_unit_reminders():
    deadlines = {"deadline": NOW + 2 * DAY, "confirm_deadline": None, "contact_form_deadline": None}
    county = UnitFacts("county", confirmed=False, holds_entries=False, deadlines=deadlines)
    # no confirmation deadline: the summary table is confirmed by the recommendation deadline
    assert rules.unit_reminders(county, NOW) == [Due(("deadline", "confirm_deadline"), NOW + 2 * DAY, 3 * DAY)]
    assert rules.unit_reminders(UnitFacts("county", True, True, deadlines), NOW) == []  # confirmed: done
    assert rules.unit_reminders(UnitFacts("school", False, False, deadlines), NOW) == []  # nothing to decide
    assert len(rules.unit_reminders(UnitFacts("school", False, True, deadlines), NOW)) == 1
    later_confirm = {**deadlines, "confirm_deadline": NOW + 6 * DAY}
    assert rules.unit_reminders(UnitFacts("city", False, True, later_confirm), NOW) == [
        Due(("deadline",), NOW + 2 * DAY, 3 * DAY)]


def test_the_contact_form_is_reminded_until_filed_whatever_the_confirmation():
    assert rules.unit_reminders(UnitFacts("county", False, True, {"deadline": None, "contact_form_deadline":
                                                                  NOW + DAY}), NOW) == []
    assert rules.contact_form_reminder(False, NOW + 2 * DAY, NOW) == Due(("contact_form_deadline",), NOW + 2 * DAY,
                                                                         3 * DAY)
    assert rules.contact_form_reminder(True, NOW + 2 * DAY, NOW) is None
    assert rules.contact_form_reminder(False, NOW + 4 * DAY, NOW) is None
    assert rules.contact_form_reminder(False, None, NOW) is None


def test_draft_reminder():
    assert rules.draft_reminder("draft", NOW + 20 * HOUR, NOW) == Due(("deadline",), NOW + 20 * HOUR, DAY)
    assert rules.draft_reminder("withdrawn", NOW + 2 * DAY, NOW).window == 3 * DAY
    assert rules.draft_reminder("returned", NOW + 2 * DAY, NOW) is not None
    assert rules.draft_reminder("submitted", NOW + 2 * DAY, NOW) is None
    assert rules.draft_reminder("draft", None, NOW) is None
    assert rules.draft_reminder("draft", NOW - HOUR, NOW) is None


def test_resubmit_deadline_is_the_earlier():
    assert rules.resubmit_deadline(NOW + DAY, NOW + 2 * DAY) == NOW + DAY
    assert rules.resubmit_deadline(NOW + 3 * DAY, NOW + 2 * DAY) == NOW + 2 * DAY
    assert rules.resubmit_deadline(None, NOW + 2 * DAY) == NOW + 2 * DAY
    assert rules.resubmit_deadline(None, None) is None


def test_keys_name_the_unit_the_deadline_and_the_window():
    due = Due(("deadline", "confirm_deadline"), datetime(2024, 9, 20, 23, 59, 59, tzinfo=TZ), 3 * DAY)
    assert rules.deadline_key(4, 17, due) == "deadline:4:17:deadline+confirm_deadline:202409202359:72h"
    assert rules.draft_key(9, Due(("deadline",), due.deadline, DAY)) == "draft:9:202409202359:24h"


def test_remind_decision_names_the_last_reminder_and_the_retry_time():
    last = datetime(2024, 9, 17, 10, 5, tzinfo=TZ)
    assert rules.remind_decision("赤坎区", None, NOW).ok
    refused = rules.remind_decision("赤坎区", last, last + timedelta(minutes=59))
    assert not refused.ok
    assert refused.message == "已于 2024-09-17 10:05 提醒过赤坎区，1 小时内不重复提醒，2024-09-17 11:05 后可以再次提醒。"
    assert refused.retry_at == last + HOUR
    assert rules.remind_decision("赤坎区", last, last + HOUR).ok
    short = rules.remind_decision("赤坎区", last, last + timedelta(minutes=5), interval=timedelta(minutes=30))
    assert "30 分钟内不重复提醒" in short.message


# --- properties -------------------------------------------------------------------------------------
offsets = st.integers(min_value=-5 * 86400, max_value=10 * 86400).map(lambda s: timedelta(seconds=s))


@given(offsets)
def test_window_is_the_narrowest_containing_the_time_left(left):
    window = rules.window_for(NOW, NOW + left)
    if left < timedelta(0) or left > max(DEADLINE_WINDOWS):
        assert window is None
    else:
        assert window is not None and left <= window
        assert all(not (left <= w) for w in DEADLINE_WINDOWS if w < window)


@settings(deadline=None, max_examples=50)  # each example simulates days of runs; no timing limit on a busy machine
@given(start=st.integers(min_value=0, max_value=8 * 24), minute=st.integers(min_value=0, max_value=59),
       step=st.sampled_from([15, 30, 60]))
def test_runs_at_least_hourly_send_each_window_exactly_once(start, minute, step):
    """A scheduler running every ``step`` minutes from ``start`` hours before the deadline until it
    passes, keeping the keys already sent: one reminder per window the runs reach, never two."""
    deadline = NOW + timedelta(hours=start, minutes=minute)
    sent: list[str] = []
    moment = NOW
    while moment <= deadline + HOUR:
        for due in rules.unit_reminders(UnitFacts("county", False, True, {"deadline": deadline}), moment):
            key = rules.deadline_key(1, 2, due)
            if key not in sent:
                sent.append(key)
        moment += timedelta(minutes=step)
    expected = ["72h", "24h"] if deadline - NOW > DAY else ["24h"]
    assert [k.rsplit(":", 1)[1] for k in sent] == expected


@given(st.integers(min_value=0, max_value=3 * 3600))
def test_remind_decision_allows_exactly_after_the_interval(seconds):
    last = NOW
    decision = rules.remind_decision("某单位", last, last + timedelta(seconds=seconds))
    assert decision.ok == (seconds >= 3600)
    assert decision.ok or decision.retry_at == last + HOUR
