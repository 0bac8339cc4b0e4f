"""通报表扬: the city sees its counties' facts and the proposed candidates, publishes a notice with a
reason per unit, and the notice is public (page and PDF) and in the city's history."""

import io

import pytest
from pypdf import PdfReader

from awards import pdf
from awards.models import Commendation
from selection import services as selection_services
from selection.models import Entry, UnitLevel

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(pdf.font_path() is None, reason="需要中文字体 fonts-wqy-microhei（make test 会自动安装）")]


@pytest.fixture
def city_awards(tree, campaign, make_course, nodes):
    """赤坎区 recommends two courses to the city, one becomes 市级精品课; 霞山区 recommends none."""
    entries = []
    for node in nodes[:2]:
        course = make_course(node=node)
        selection_services.decide(tree.school_admin, Entry.objects.get(course=course, level__kind="school").pk, "recommend")
        county_entry = Entry.objects.get(course=course, level__kind="county")
        selection_services.decide(tree.county_admin, county_entry.pk, "recommend")
        entries.append(Entry.objects.get(course=course, level__kind="city"))
    selection_services.set_award(tree.city_admin, entries[0].pk, True)
    return entries


def test_candidates_show_the_facts_and_say_why_not(client, tree, campaign, city_awards):
    client.force_login(tree.city_admin)
    url = f"/awards/commendations/campaigns/{campaign.pk}/units/{tree.city.pk}/"
    page = client.get(url).content.decode()
    assert "赤坎区" in page and "霞山区" in page
    # 赤坎区 has not confirmed its summary table and its packages have no files: not proposed, and it says why.
    assert "未确认推荐汇总表" in page and "资源包未全部通过检测" in page and "没有推荐课程" in page
    assert "获评“市级精品课” 1 门" in page


def test_publish_needs_a_reason_per_unit_then_is_public(client, tree, campaign, city_awards):
    client.force_login(tree.city_admin)
    url = f"/awards/commendations/campaigns/{campaign.pk}/units/{tree.city.pk}/"
    refused = client.post(url, {"title": "关于表扬的通报", "body": "经研究，予以通报表扬。", "unit": [tree.county.pk],
                                f"reason-{tree.county.pk}": " "})
    assert "请填写表扬“赤坎区”的理由" in refused.content.decode() and not Commendation.objects.exists()
    outside = client.post(url, {"title": "t", "body": "b", "unit": [tree.other_city.pk], f"reason-{tree.other_city.pk}": "x"})
    assert "不是本单位的下级单位" in outside.content.decode()
    done = client.post(url, {"title": "关于表扬的通报", "doc_number": "湛教基〔2024〕1号", "body": "经研究，予以通报表扬。",
                             "unit": [tree.county.pk], f"reason-{tree.county.pk}": "组织有力，获评市级精品课 1 门。"})
    c = Commendation.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/commendations/{c.pk}/"
    unit = c.units.get()
    assert unit.proposed is False and unit.facts["awarded_above"] == 1  # chosen although not proposed: recorded
    client.logout()
    public = client.get(f"/commendations/{c.pk}/").content.decode()
    assert "湛教基〔2024〕1号" in public and "赤坎区" in public and "组织有力" in public
    notice = client.get(f"/commendations/{c.pk}.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(notice.content)).pages).replace("\n", "")
    assert "关于表扬的通报" in text and "赤坎区" in text and "组织有力" in text and "湛江市" in text
    events = selection_services.unit_history(tree.city_admin, campaign, tree.city,
                                             selection_services.HistoryFilter(action="awards.commendation.publish"))
    assert events.count() == 1


def test_facts_of_a_confirmed_county(tree, campaign, city_awards):
    from django.utils import timezone

    from awards import services

    UnitLevel.objects.update_or_create(campaign=campaign, level=campaign.levels.get(kind="county"), unit=tree.county,
                                       defaults={"confirmed_at": timezone.now()})
    facts = {f.name: f for f in services.unit_facts(tree.city_admin, campaign, tree.city)}
    assert facts["赤坎区"].recommended == 2 and facts["赤坎区"].awarded_above == 1
    assert facts["赤坎区"].complete == 0  # the test courses have no files
    assert facts["赤坎区"].confirmed_on_time is True and facts["霞山区"].confirmed_on_time is None
    assert facts["霞山区"].recommended == 0 and facts["霞山区"].quota == facts["赤坎区"].quota


def test_only_city_and_province_admins(client, tree, campaign, city_awards):
    for user in (tree.county_admin, tree.teacher):
        client.force_login(user)
        assert client.get(f"/awards/commendations/campaigns/{campaign.pk}/units/{tree.city.pk}/").status_code == 404


def test_api(client, tree, campaign, city_awards, bearer):
    base = f"/api/v1/awards/commendations/campaigns/{campaign.pk}/units/{tree.city.pk}"
    admin = bearer(tree.city_admin)
    got = client.get(base + "/candidates", **admin).json()
    assert {c["name"] for c in got} == {"赤坎区", "霞山区"} and all(c["shortfalls"] for c in got)
    assert client.get(base + "/candidates", **bearer(tree.county_admin)).status_code == 404
    bad = client.post(base, {"title": "t", "body": "b", "units": [{"unit_id": tree.county.pk, "reason": ""}]},
                      content_type="application/json", **admin)
    assert bad.status_code == 400 and "理由" in bad.json()["detail"]
    made = client.post(base, {"title": "通报", "body": "予以表扬。", "units": [{"unit_id": tree.county.pk, "reason": "好"}]},
                       content_type="application/json", **admin)
    assert made.status_code == 201
    public = client.get(f"/api/v1/awards/commendations/{made.json()['id']}").json()
    assert public["units"] == [{"unit_id": tree.county.pk, "name": "赤坎区", "reason": "好", "proposed": False}]
