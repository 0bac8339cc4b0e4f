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
