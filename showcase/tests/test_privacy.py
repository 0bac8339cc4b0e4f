"""Nothing private reaches a public page, file URL or the API: files of kinds the campaign keeps
private, courses never awarded or of a campaign still running, mobiles and usernames, scores,
review and decision reasons."""

import json

import pytest
from django.urls import reverse

from campaigns.enums import CampaignStatus
from jingpinke.s3server import served

pytestmark = pytest.mark.django_db

SECRETS = ("13800000001", "13800000009", "13912345678", "评审意见", "内部理由", "colleague", "other_teacher",
           "作业练习（含答案）", "教学设计-李晓梅", "李晓梅-13800000001")


def _public_texts(client, world) -> dict[str, str]:
    pages = {
        "gallery": client.get(reverse("showcase:gallery")),
        "search": client.get(reverse("showcase:gallery"), {"q": "李"}),
        "course": client.get(reverse("showcase:course", args=[world.gold.pk])),
        "bronze": client.get(reverse("showcase:course", args=[world.bronze.pk])),
        "api list": client.get("/api/v1/showcase/courses"),
        "api detail": client.get(f"/api/v1/showcase/courses/{world.gold.pk}"),
    }
    for name, r in pages.items():
        assert r.status_code == 200, name
    return {name: json.dumps(r.json(), ensure_ascii=False) if "api" in name else r.content.decode()
            for name, r in pages.items()}


def test_no_mobile_username_reason_or_private_file_name_on_any_public_page(client, world):
    for name, text in _public_texts(client, world).items():
        for secret in SECRETS:
            assert secret not in text, (name, secret)


def test_a_private_kind_is_not_listed_nor_served(client, world):
    html = client.get(reverse("showcase:course", args=[world.gold.pk])).content.decode()
    assert 'data-kind="lesson_plan"' in html and 'data-kind="exercises"' not in html
    assert client.get(reverse("showcase:file", args=[world.gold.pk, world.gold_exercises.pk])).status_code == 404
    api = client.get(f"/api/v1/showcase/courses/{world.gold.pk}").json()
    assert [f["kind"] for f in api["files"]] == ["video", "lesson_plan"]


def test_the_campaign_decides_which_kinds_are_public(client, world):
    world.ended.public_resource_kinds = ["lesson_plan"]  # no video: no player, no poster
    world.ended.save()
    html = client.get(reverse("showcase:course", args=[world.gold.pk])).content.decode()
    assert "<video" not in html
    assert client.get(reverse("showcase:file", args=[world.gold.pk, world.gold_video.pk])).status_code == 404
    assert client.get(reverse("showcase:poster", args=[world.gold.pk, world.gold_video.pk])).status_code == 404
    gallery = client.get(reverse("showcase:gallery"))
    assert next(c for c in gallery.context["g"].cards if c.id == world.gold.pk).poster is None
    assert served(client.get(reverse("showcase:file", args=[world.gold.pk, world.gold_plan.pk]))).status_code == 200


def test_unpublished_courses_answer_404_everywhere(client, world):
    for course, resource in ((world.plain, world.plain_plan), (world.fresh, world.fresh_plan)):
        assert client.get(reverse("showcase:course", args=[course.pk])).status_code == 404
        assert client.get(reverse("showcase:file", args=[course.pk, resource.pk])).status_code == 404
        assert client.get(f"/api/v1/showcase/courses/{course.pk}").status_code == 404
    listed = [c["id"] for c in client.get("/api/v1/showcase/courses").json()["results"]]
    assert listed == [world.bronze.pk, world.gold.pk]


def test_a_file_of_another_course_is_not_served_under_a_published_one(client, world):
    url = reverse("showcase:file", args=[world.gold.pk, world.plain_plan.pk])
    assert client.get(url).status_code == 404


def test_a_reopened_campaign_leaves_the_showcase(client, world):
    world.ended.status = CampaignStatus.OPEN
    world.ended.save()
    assert client.get(reverse("showcase:course", args=[world.gold.pk])).status_code == 404
    assert client.get(reverse("showcase:file", args=[world.gold.pk, world.gold_video.pk])).status_code == 404
    assert client.get(reverse("showcase:gallery")).context["g"].cards == []


def test_a_withdrawn_award_leaves_the_showcase(client, world):
    world.bronze.entries.update(awarded=False)
    assert client.get(reverse("showcase:course", args=[world.bronze.pk])).status_code == 404


def test_scores_never_reach_the_course_page_or_api(client, world):
    # whatever the review stored, the showcase has no field for it: the answer has exactly these keys
    api = client.get(f"/api/v1/showcase/courses/{world.gold.pk}").json()
    assert set(api) == {"id", "title", "year", "campaign", "category", "stage", "subject", "grade", "version",
                        "node_id", "node_path", "textbook", "school", "teacher", "award", "award_level", "url",
                        "poster_url", "team", "video_url", "files"}
    assert set(api["files"][0]) == {"id", "period", "kind", "label", "name", "size", "url"}
    assert api["team"] == ["李晓梅", "张丽"]


def test_a_user_without_real_name_is_not_shown_by_username(client, world):
    world.colleague.real_name = ""
    world.colleague.save()
    api = client.get(f"/api/v1/showcase/courses/{world.gold.pk}").json()
    assert api["team"] == ["李晓梅"]


def test_api_needs_no_login_and_filters_like_the_page(client, world):
    r = client.get("/api/v1/showcase/courses", {"level": "city"})
    assert r.status_code == 200
    body = r.json()
    assert (body["count"], [c["id"] for c in body["results"]]) == (1, [world.gold.pk])
    gold = body["results"][0]
    assert (gold["award"], gold["year"], gold["school"], gold["teacher"]) == ("市级精品课", 2023, "湛江市第二十一小学", "李晓梅")
    assert gold["poster_url"] == reverse("showcase:poster", args=[world.gold.pk, world.gold_video.pk])
    assert [c["id"] for c in client.get("/api/v1/showcase/courses", {"q": "吴海燕"}).json()["results"]] == [world.bronze.pk]
    detail = client.get(f"/api/v1/showcase/courses/{world.gold.pk}").json()
    assert detail["video_url"] == reverse("showcase:file", args=[world.gold.pk, world.gold_video.pk])


def test_campaign_owner_sets_the_public_kinds_on_the_rules_page_and_api(client, world, tree):
    from audit.models import Event

    client.force_login(tree.city_admin)
    page = client.get(reverse("campaigns:rules", args=[world.ended.pk])).content.decode()
    assert 'type="checkbox" name="public_resource_kinds" value="video"' in page
    assert "精品课展示公开的资源：微课视频、实验教学视频、教学设计" in client.get(
        reverse("campaigns:detail", args=[world.ended.pk])).content.decode()
    r = client.post(reverse("campaigns:rules", args=[world.ended.pk]), {
        "node_rule": "block", "new_textbook_grades": "", "public_resource_kinds": ["lesson_plan", "video"],
        "caps-TOTAL_FORMS": "0", "caps-INITIAL_FORMS": "0", "targets-TOTAL_FORMS": "0", "targets-INITIAL_FORMS": "0"})
    assert r.status_code == 302
    world.ended.refresh_from_db()
    assert world.ended.public_resource_kinds == ["video", "lesson_plan"]
    event = Event.objects.filter(action="campaigns.rules.update").latest("pk")
    assert event.after["public_resource_kinds"] == ["video", "lesson_plan"]
    detail = client.get(f"/api/v1/campaigns/{world.ended.pk}").json()
    assert detail["public_resource_kinds"] == ["video", "lesson_plan"]
    bad = client.put(f"/api/v1/campaigns/{world.ended.pk}/rules", {"node_rule": "block", "public_resource_kinds": ["homework"]},
                     content_type="application/json")
    assert bad.status_code == 400
    assert "没有这种资源类型：homework" in bad.json()["detail"] + str(bad.json()["errors"])
    ok = client.put(f"/api/v1/campaigns/{world.ended.pk}/rules", {"node_rule": "block"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["public_resource_kinds"] == ["video", "lesson_plan"]  # not given: kept


@pytest.mark.parametrize("path", ["/showcase/99999999999999999999/", "/showcase/1/files/99999999999999999999/",
                                  "/showcase/99999999999999999999/files/1/poster.jpg",
                                  "/api/v1/showcase/courses/99999999999999999999"])
def test_an_id_beyond_the_range_is_not_found(client, world, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("query", ["q=a%00b", "page=18446744073709551616", "page=-1", "year=a%00b", "page=abc"])
def test_odd_queries_are_answered_without_error(client, world, query):
    assert client.get("/showcase/?" + query).status_code in (200, 400)
    assert client.get("/api/v1/showcase/courses?" + query).status_code in (200, 422)


def test_a_file_that_cannot_be_cleaned_is_not_served(client, world):
    from media.models import CleanCopy

    CleanCopy.objects.filter(source=world.gold_plan.file).delete()
    CleanCopy.objects.create(source=world.gold_plan.file, error="文件已损坏")
    r = client.get(reverse("showcase:file", args=[world.gold.pk, world.gold_plan.pk]))
    assert r.status_code == 404
