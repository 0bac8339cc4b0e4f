"""The gallery /showcase/ and the course page: what is listed, every filter, search, pages, the
award shown, query counts, caching (ETag → 304), the video served with Range requests."""

import pytest
from django.urls import reverse

from courses.models import CourseMember
from jingpinke.s3server import body_of, s3_test_run, served
from showcase import services

pytestmark = pytest.mark.django_db


def ids(response):
    return [c.id for c in response.context["g"].cards]


def test_only_awarded_courses_of_ended_campaigns_are_listed(client, world):
    r = client.get(reverse("showcase:gallery"))
    assert r.status_code == 200
    assert ids(r) == [world.bronze.pk, world.gold.pk]  # newest first: same year, higher id first
    html = r.content.decode()
    assert "秋天" in html and "比大小" in html and "认识钟表" not in html and "秋天（新）" not in html


def test_the_highest_award_is_shown(client, world):
    cards = {c.id: c for c in client.get(reverse("showcase:gallery")).context["g"].cards}
    assert (cards[world.gold.pk].award, cards[world.gold.pk].award_level) == ("市级精品课", "city")
    assert (cards[world.bronze.pk].award, cards[world.bronze.pk].award_level) == ("县级精品课", "county")


@pytest.mark.parametrize(("params", "expected"), [
    ({"year": "2023"}, ["bronze", "gold"]),
    ({"year": "2024"}, []),
    ({"level": "city"}, ["gold"]),
    ({"level": "county"}, ["bronze"]),  # its highest award is the county's; gold went higher
    ({"category": "subject"}, ["bronze", "gold"]),
    ({"category": "experiment"}, []),
    ({"stage": "primary"}, ["bronze", "gold"]),
    ({"stage": "junior"}, []),
    ({"subject": "语文"}, ["gold"]),
    ({"grade": "一年级"}, ["bronze", "gold"]),
    ({"version": "人教版"}, ["bronze"]),
    ({"q": "秋"}, ["gold"]),  # title
    ({"q": "吴海燕"}, ["bronze"]),  # lead teacher
    ({"q": "张丽"}, ["gold"]),  # team member
    ({"q": "霞山区第一"}, ["bronze"]),  # school
    ({"q": "认识钟表"}, []),  # an unpublished course is not found either
    ({"year": "2023", "subject": "数学", "level": "county"}, ["bronze"]),
    ({"year": "abc", "level": "nowhere"}, ["bronze", "gold"]),  # a hand-edited URL: dropped, no error
])
def test_filters(client, world, params, expected):
    r = client.get(reverse("showcase:gallery"), params)
    assert r.status_code == 200
    assert ids(r) == [getattr(world, name).pk for name in expected]


def test_node_filter_names_the_node(client, world):
    r = client.get(reverse("showcase:gallery"), {"node": world.books.autumn.pk})
    assert ids(r) == [world.gold.pk]
    assert "第一单元 › 1 秋天" in r.content.decode()
    r = client.get(reverse("showcase:gallery"), {"node": world.books.mirror.pk})  # no published course on it
    assert ids(r) == [] and "目录节点：第一单元 › 平面镜成像" in r.content.decode()


def test_filter_options_come_from_published_courses(client, world):
    facets = client.get(reverse("showcase:gallery")).context["g"].facets
    assert facets["years"] == [2023]
    assert facets["levels"] == [("county", "县级精品课"), ("city", "市级精品课")]
    assert facets["subjects"] == sorted(["语文", "数学"])  # 物理 has no published course
    assert facets["versions"] == ["人教版", "统编版"]
    assert facets["categories"] == [("subject", "学科课程")]


def test_cards_have_lazy_poster_frames(client, world):
    html = client.get(reverse("showcase:gallery")).content.decode()
    poster = reverse("showcase:poster", args=[world.gold.pk, world.gold_video.pk])
    assert f'<img src="{poster}" alt="" loading="lazy"' in html
    r = client.get(poster)
    if s3_test_run():  # the redirect to a presigned URL of a few minutes must not be kept for an hour
        assert r.status_code == 302 and r["Cache-Control"] == "private, no-store"
        r = served(r)
    else:
        assert r["Cache-Control"] == "public, max-age=3600"
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"


def test_gallery_query_count_does_not_grow_with_courses(client, world, django_assert_max_num_queries, tree):
    for i in range(12):
        c = services.Course.objects.get(pk=world.gold.pk)
        c.pk, c.id, c.title = None, None, f"复制课程{i}"
        c.save()
        services.Period.objects.create(course=c, number=1)
        for e in services.Entry.objects.filter(course=world.gold):
            e.pk, e.course = None, c
            e.node_exclusive = False
            e.save()
        CourseMember.objects.create(course=c, user=world.colleague)
    with django_assert_max_num_queries(10):
        r = client.get(reverse("showcase:gallery"))
    assert len(ids(r)) == 14


def test_pages(client, world):
    g = services.gallery({"page": "2"}, page_size=1)
    assert [c.id for c in g.cards] == [world.gold.pk] and g.page.paginator.num_pages == 2
    g = services.gallery({"page": "99"}, page_size=1)  # past the end: the last page
    assert [c.id for c in g.cards] == [world.gold.pk]


def test_conditional_get_answers_304_until_something_changes(client, world):
    url = reverse("showcase:gallery")
    first = client.get(url)
    assert first["Cache-Control"] == "private, max-age=60"
    etag = first["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url + "?subject=语文", HTTP_IF_NONE_MATCH=etag).status_code == 200  # another page
    world.gold.title = "秋天（修订）"
    world.gold.save()
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200
    anonymous = client.get(url)["ETag"]
    client.force_login(world.gold.lead_teacher)  # the header shows who is logged in: not the same page
    assert client.get(url, HTTP_IF_NONE_MATCH=anonymous).status_code == 200
    assert client.get(url, HTTP_IF_NONE_MATCH=client.get(url)["ETag"]).status_code == 304
    assert client.get(url).context["g"].cards  # logged in: the same gallery


def test_course_page_plays_the_video_and_lists_public_documents(client, world):
    r = client.get(reverse("showcase:course", args=[world.gold.pk]))
    assert r.status_code == 200
    html = r.content.decode()
    video_url = reverse("showcase:file", args=[world.gold.pk, world.gold_video.pk])
    assert f'src="{video_url}"' in html and "<video" in html
    assert reverse("showcase:file", args=[world.gold.pk, world.gold_plan.pk]) in html
    assert "第一单元 › 1 秋天" in html and "李晓梅、张丽" in html and "市级精品课" in html
    assert "湛江市第二十一小学" in html


def test_video_is_served_with_range_requests(client, world):
    url = reverse("showcase:file", args=[world.gold.pk, world.gold_video.pk])
    whole = served(client.get(url))
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes" and whole["Content-Type"] == "video/mp4"
    size = int(whole["Content-Length"])
    part = served(client.get(url, HTTP_RANGE="bytes=100-199"))
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{size}"
    assert len(body_of(part)) == 100
    if not s3_test_run():  # the app's own range answers (the store answers ranges itself)
        assert client.get(url, HTTP_RANGE=f"bytes={size + 10}-").status_code == 416
    # the public name, never the uploaded one (which held the teacher's mobile)
    assert "13800000001" not in whole["Content-Disposition"]
    assert "filename*=utf-8''%E7%A7%8B%E5%A4%A9" in whole["Content-Disposition"]


def test_documents_are_served_as_their_metadata_free_copy(client, world):
    from media.models import CleanCopy

    r = served(client.get(reverse("showcase:file", args=[world.gold.pk, world.gold_plan.pk]), {"download": "1"}))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    copy = CleanCopy.objects.get(source=world.gold_plan.file)
    assert body_of(r).startswith(b"%PDF")
    if s3_test_run():
        assert r.url.split("?")[0].endswith("/" + copy.storage_key)
    else:
        assert r["ETag"] == f'"{copy.storage_key.rsplit("/", 1)[-1]}"'
    assert "attachment" in r["Content-Disposition"]


def test_anonymous_and_logged_in_visitors_see_the_gallery(client, world, tree):
    assert client.get(reverse("showcase:gallery")).status_code == 200
    client.force_login(tree.expert)
    r = client.get(reverse("showcase:gallery"))
    assert r.status_code == 200 and ids(r) == [world.bronze.pk, world.gold.pk]
    assert "精品课展示" in r.content.decode()  # the navigation names it


def test_login_page_links_to_the_showcase(client, db):
    html = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("showcase:gallery")}" data-showcase-link' in html


def test_prepare_copies_queues_the_public_files_of_published_courses(world):
    from media.models import CleanCopy

    CleanCopy.objects.all().delete()
    assert services.prepare_copies(world.ended) == 2  # gold's video and lesson plan; not its exercises
    assert set(CleanCopy.objects.values_list("source_id", flat=True)) == {world.gold_video.file_id,
                                                                          world.gold_plan.file_id}
    assert services.prepare_copies(world.ended) == 0  # made once
