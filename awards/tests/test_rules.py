from awards import rules


def test_mask_name():
    assert rules.mask_name("王小明") == "王*明"
    assert rules.mask_name("李四") == "李*"
    assert rules.mask_name("欧阳修明") == "欧**明"
    assert rules.mask_name("Tom") == "T**"
    assert rules.mask_name("") == "*"


def test_body_placeholders_are_checked_and_filled():
    assert rules.body_problems(rules.DEFAULT_BODY) == []
    problems = rules.body_problems("{姓名} 老师获得 {奖项}")
    assert len(problems) == 1 and "{奖项}" in problems[0] and "{姓名}" in problems[0]  # names the known ones
    assert any("花括号" in p for p in rules.body_problems("{姓名 老师"))
    assert rules.body_problems("  ")
    text = rules.CertificateText("王小明", "一小", "秋天", "统编版 › 秋天", "学科课程", "市级精品课", 2024, "湛江市教育局", "member")
    assert rules.render_body("{姓名}{角色}《{课程}》{年度}{荣誉}{颁发单位}", text) == "王小明参与制作《秋天》2024市级精品课湛江市教育局"


def test_one_certificate_per_person_lead_first():
    lead = rules.Holder(1, "甲", "s", "lead")
    got = rules.holders(lead, [rules.Holder(2, "乙", "s", "member"), rules.Holder(1, "甲", "s", "member"),
                               rules.Holder(2, "乙", "s", "member")])
    assert [h.user_id for h in got] == [1, 2]


def test_serial():
    assert rules.serial(2024, "county", 12, 31) == "2024-COUNTY-0012-00031"


def facts(uid, name, rec=20, quota=25, above=3, complete=None, confirmed=True, contact=True):
    return rules.UnitFacts(uid, name, rec, quota, above, rec if complete is None else complete, confirmed, contact)


def test_commendation_candidates_from_the_facts():
    got = rules.commendation_candidates([
        facts(1, "甲区", above=2), facts(2, "乙区", above=5), facts(3, "丙县", rec=10),  # 40 % of its quota
        facts(4, "丁县", complete=18), facts(5, "戊县", confirmed=False), facts(6, "己县", confirmed=None),
        facts(7, "庚县", contact=False), facts(8, "辛县", above=0), facts(9, "壬县", quota=None, contact=None),
        facts(10, "癸县", rec=0, above=0)], "市级精品课")
    assert [(c.facts.name, c.proposed) for c in got[:3]] == [("乙区", True), ("壬县", True), ("甲区", True)]
    assert all(not c.proposed for c in got[3:])
    why = {c.facts.name: c.shortfalls for c in got}
    assert why["丙县"] == ("名额使用不足 80%（10/25）",)
    assert why["丁县"] == ("2 门课程的资源包未全部通过检测",)
    assert why["戊县"] == ("推荐汇总表逾期确认",) and why["己县"] == ("未确认推荐汇总表",)
    assert why["庚县"] == ("工作联系表未按时提交",) and why["辛县"] == ("没有课程获评“市级精品课”",)
    assert "没有推荐课程" in why["癸县"]
    assert got[0].reason == "推荐 20 门（名额 20/25），获评“市级精品课” 5 门，资源包全部通过检测，按时确认推荐汇总表，按时提交工作联系表。"
