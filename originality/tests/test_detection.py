"""Each kind of copy is found by the check as it runs on stored files, across campaigns and years, and
the false-positive traps stay quiet: unrelated videos, the same (national template) title card, the
same teacher's own earlier work."""

import pytest
from django.urls import reverse

from campaigns import services as campaign_services
from campaigns.enums import CampaignStatus
from originality import services, testing
from originality.models import Match
from originality.tests.test_pages import course_with
from originality.tests.test_services import stored
from originality.tests.test_text import LESSON
from selection.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def last_year(tree, nodes):
    """The ended 2023 campaign with a course that became a 市级精品课 (shown in the showcase)."""
    old = campaign_services.create_from_shipped(tree.sysadmin, "zhanjiang-2024", tree.city, year_offset=-1,
                                                status=CampaignStatus.CLOSED)
    return old


def test_an_exact_copy_of_last_years_showcase_course_is_found_and_shown_by_year_level_and_node(
        client, tree, campaign, nodes, last_year):
    data = b"%PDF-1.4 the 2023 lesson plan"
    old_file = stored(tree.other_teacher, data, "pdf", name="2023 教学设计.pdf")
    old = course_with(last_year, nodes[0], tree.other_teacher, tree.other_school, old_file, title="去年的精品课",
                      submit=False)
    Entry.objects.create(course=old, level=last_year.levels.get(kind="city"), unit=tree.city, node=old.node,
                         state="recommended", awarded=True)
    services.check_file(old_file.pk)
    new_file = stored(tree.teacher, data, "pdf", name="今年的教学设计.pdf")
    course_with(campaign, nodes[0], tree.teacher, tree.school, new_file, title="今年的课")
    services.check_file(new_file.pk)
    match = Match.objects.get(new_file=new_file)
    assert (match.kind, match.earlier_file, match.similarity) == ("exact", old_file, 1.0)
    client.force_login(tree.school_admin)
    page = client.get(reverse("originality:match", args=[match.pk])).content.decode()
    city_level = last_year.levels.get(kind="city").name
    assert f"{last_year.year} 年 · {city_level} · " in page and "去年的精品课" not in page
    assert "完全相同的文件" in page


@pytest.mark.slow
def test_video_copies_are_found_and_traps_are_not(tree, tmp_path):
    """Through the index as files arrive: a re-encoded, rescaled and cropped copy is found; a different
    lecture behind the same (national template) title card, even a card of 10 seconds, is not; nor an
    unrelated lecture."""
    def video(owner, path, name):
        return stored(owner, path.read_bytes(), "mp4", name=name)

    a, b = tree.other_teacher, tree.teacher
    original = video(a, testing.lecture(tmp_path / "o.mp4", seed=21, seconds=70, title_seed=0, title_seconds=10), "o")
    services.check_file(original.pk)
    same_card = video(b, testing.lecture(tmp_path / "s.mp4", seed=22, seconds=70, title_seed=0, title_seconds=10), "s")
    services.check_file(same_card.pk)
    unrelated = video(b, testing.lecture(tmp_path / "u.mp4", seed=23, seconds=70, width=480, height=270), "u")
    services.check_file(unrelated.pk)
    assert not Match.objects.exists()
    copy = video(b, testing.copy(tmp_path / "c.mp4", 21, seconds=70, out_size=(480, 270), bitrate=150_000, crop=0.05,
                                 title_seed=0), "c")
    services.check_file(copy.pk)
    match = Match.objects.get()
    assert (match.new_file, match.earlier_file, match.kind) == (copy, original, "video")
    assert match.similarity >= 0.8 and match.details["segments"]


@pytest.mark.slow
def test_two_still_title_cards_of_the_same_template_are_not_a_copy(tree, tmp_path):
    """Videos that are one still picture (the template card with another title) look alike to a perceptual
    hash; one picture, however long it stays on screen, is no evidence of copying."""
    from media.testing import make_long_video

    a = make_long_video(tmp_path / "a.mp4", seconds=60, title=("比大小", "湛江市第二十一小学  周建华"), audio=False)
    b = make_long_video(tmp_path / "b.mp4", seconds=60, title=("秋天", "湛江市第二十一小学  李晓梅"), audio=False)
    first = stored(tree.teacher, a.read_bytes(), "mp4", name="a")
    services.check_file(first.pk)
    second = stored(tree.other_teacher, b.read_bytes(), "mp4", name="b")
    services.check_file(second.pk)
    assert not Match.objects.exists()


def test_a_shared_template_of_headings_is_not_a_copy_but_a_copied_passage_is(tree):
    def courseware(title):  # what a slide template leaves when little is written in it
        return "\n".join([f"《{title}》课件", f"《{title}》课件：课件内容", "学习目标", "学习目标：课件内容",
                          "课堂练习", "课堂练习：课件内容"])

    first = stored(tree.teacher, b"1", "pptx", courseware("比大小"), name="a")
    services.check_file(first.pk)
    second = stored(tree.other_teacher, b"2", "pptx", courseware("我上学了"), name="b")
    services.check_file(second.pk)
    assert not Match.objects.exists()
    copied = stored(tree.other_teacher, b"3", "pptx", courseware("我上学了") + LESSON[:120], name="c")
    lesson = stored(tree.teacher, b"4", "docx", LESSON, name="d")
    services.check_file(lesson.pk)
    copied.created_at = lesson.created_at
    copied.save(update_fields=["created_at"])
    services.check_file(copied.pk)
    assert Match.objects.get().earlier_file == lesson
