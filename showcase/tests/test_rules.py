"""The showcase's pure decisions: the award shown, filters cleaned, filter options."""

from showcase import rules
from showcase.rules import Award


def test_highest_award_is_the_highest_level_named():
    awards = [Award("county", "县级精品课"), Award("city", "市级精品课"), Award("school", "")]
    assert rules.highest_award(awards) == Award("city", "市级精品课")
    assert rules.highest_award([Award("county", "县级精品课")]) == Award("county", "县级精品课")
    assert rules.highest_award([Award("school", "")]) is None
    assert rules.highest_award([]) is None


def test_levels_above():
    assert rules.levels_above("county") == ("city", "province")
    assert rules.levels_above("province") == ()
    assert rules.levels_above("nonsense") == ()


def test_parse_filter_keeps_valid_values_and_drops_the_rest():
    f = rules.parse_filter({"year": "2023", "level": "city", "category": "subject", "stage": "primary",
                            "subject": " 语文 ", "grade": "一年级", "version": "统编版", "node": "7", "q": " 秋天 "},
                           categories=["subject"], stages=["primary"])
    assert (f.year, f.level, f.category, f.stage, f.subject, f.grade, f.version, f.node, f.q) == (
        2023, "city", "subject", "primary", "语文", "一年级", "统编版", 7, "秋天")
    assert f.active and f.dropped == ()
    bad = rules.parse_filter({"year": "20x3", "level": "galaxy", "category": "x", "stage": "y", "node": "-1",
                              "q": "长" * 300}, categories=["subject"], stages=["primary"])
    assert (bad.year, bad.level, bad.category, bad.stage, bad.node) == (None, "", "", "", None)
    assert set(bad.dropped) == {"year", "node", "level", "category", "stage"}
    assert len(bad.q) == rules.MAX_QUERY
    assert not rules.parse_filter({}, categories=[], stages=[]).active


def test_facet_options_each_value_once_years_newest_first():
    rows = [(2023, "subject", "primary", "语文", "一年级", "统编版"),
            (2024, "subject", "primary", "数学", "一年级", "人教版"),
            (2023, "experiment", "junior", "物理", "八年级", "")]
    assert rules.facet_options(rows) == {
        "years": [2024, 2023], "categories": ["experiment", "subject"], "stages": ["junior", "primary"],
        "subjects": sorted(["语文", "数学", "物理"]), "grades": sorted(["一年级", "八年级"]),
        "versions": ["人教版", "统编版"]}
    assert rules.facet_options([])["years"] == []


def test_public_kinds():
    from campaigns.enums import default_public_kinds

    kinds = default_public_kinds()
    assert "exercises" not in kinds and {"video", "lesson_plan", "slides", "experiment_video"} <= set(kinds)
    assert rules.is_public_kind("video", kinds) and not rules.is_public_kind("exercises", kinds)
    assert rules.video_is_public(["experiment_video"]) and not rules.video_is_public(["lesson_plan"])
