"""The node picker shows a lesson's selected courses of earlier years (title, year, award, link)."""

import pytest
from django.urls import reverse

from catalog.models import OpenNode
from courses import services as courses
from showcase import services

pytestmark = pytest.mark.django_db


def test_earlier_selected_courses_per_node(world):
    found = services.earlier_selected([world.books.autumn.pk, world.books.compare.pk, world.books.mirror.pk],
                                      before_year=2024)
    assert found == {world.books.autumn.pk: [services.Earlier(world.gold.pk, "秋天", 2023, "市级精品课")],
                     world.books.compare.pk: [services.Earlier(world.bronze.pk, "比大小", 2023, "县级精品课")]}
    assert services.earlier_selected([world.books.autumn.pk], before_year=2023) == {}  # not earlier
    assert services.earlier_selected([], before_year=2024) == {}


def test_picker_shows_the_earlier_selected_course(client, world, tree, django_assert_max_num_queries):
    OpenNode.objects.create(campaign=world.current, node=world.books.autumn)
    OpenNode.objects.create(campaign=world.current, node=world.books.mirror)
    lessons = courses.node_picker(tree.teacher, world.current, {"node": str(world.books.autumn.pk)},
                                  tree.school)["lessons"]
    autumn = next(item for item in lessons if item["id"] == world.books.autumn.pk)
    assert autumn["showcased"] == [services.Earlier(world.gold.pk, "秋天", 2023, "市级精品课")]
    client.force_login(tree.teacher)
    with django_assert_max_num_queries(30):
        html = client.get(reverse("courses:node_picker"), {"campaign": world.current.pk,
                                                           "node": world.books.autumn.pk}).content.decode()
    link = reverse("showcase:course", args=[world.gold.pk])
    assert (f'<span class="small" data-showcased>往年精品课：<a href="{link}" target="_blank" rel="noopener">秋天</a>'
            f'（2023 · 市级精品课）</span>') in html
    # the unpublished course of the ended campaign and the running campaign's course are not named
    assert "认识钟表" not in html and "秋天（新）" not in html


def test_picker_of_a_lesson_without_earlier_course_says_nothing(world, tree):
    OpenNode.objects.create(campaign=world.current, node=world.books.mirror)
    lessons = courses.node_picker(tree.teacher, world.current, {"node": str(world.books.mirror.pk)},
                                  tree.school)["lessons"]
    assert [item["showcased"] for item in lessons] == [[]]
