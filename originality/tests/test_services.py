"""The index across files: exact copies by sha256, near-duplicate documents and videos found through
the band index (no pairwise scan), the same teacher's own file marked as such, and the check queued
after the compliance check."""

import hashlib
import io

import pytest
from django.core.files.storage import default_storage

from media.models import StoredFile
from orgs.models import Role
from orgs.tests.factories import member
from originality import services, testing
from originality.models import Band, Match, Signature
from originality.tests.test_text import LESSON, OTHER

pytestmark = pytest.mark.django_db


def stored(owner, data: bytes, kind: str, text: str = "", name="f") -> StoredFile:
    key = default_storage.save(f"files/test/{hashlib.sha1(data + name.encode()).hexdigest()}", io.BytesIO(data))
    return StoredFile.objects.create(owner=owner, storage_key=key, original_name=name, size=len(data),
                                     sha256=hashlib.sha256(data).hexdigest(), kind=kind, text=text,
                                     probe_status="done")


@pytest.fixture
def teachers(tree):
    return tree.teacher, member(tree.other_school, Role.TEACHER, username="t2", real_name="另一位老师")


def test_exact_copy_anywhere(teachers):
    a, b = teachers
    first = stored(a, b"same bytes", "pdf", name="1")
    second = stored(b, b"same bytes", "pdf", name="2")
    services.check_file(second.pk)
    match = Match.objects.get()
    assert (match.new_file, match.earlier_file, match.kind, match.similarity, match.same_owner) == (
        second, first, "exact", 1.0, False)


def test_a_check_run_again_forgets_what_no_longer_matches(teachers, django_assert_num_queries):
    """The check starts by deleting the file's matches as the new file (one DELETE, no transaction
    around it); its matches as the earlier file of another stay."""
    a, b = teachers
    first = stored(a, b"same bytes", "pdf", name="1")
    second = stored(b, b"same bytes", "pdf", name="2")
    third = stored(b, b"same bytes", "pdf", name="3")
    services.check_file(second.pk)
    services.check_file(third.pk)
    assert Match.objects.count() == 3  # second→first, third→first, third→second
    StoredFile.objects.filter(pk=second.pk).update(sha256="0" * 64)  # changed: no longer a copy
    second.refresh_from_db()
    with django_assert_num_queries(2):  # the DELETE, the lookup of the hash
        assert services.check_file(second) == {"exact": 0}
    assert sorted((m.new_file_id, m.earlier_file_id) for m in Match.objects.all()) == sorted(
        [(third.pk, first.pk), (third.pk, second.pk)])
    assert services._forget_matches(third) == 2 and not Match.objects.exists()


def test_near_duplicate_document_found_through_the_index(teachers, django_assert_max_num_queries):
    a, b = teachers
    original = stored(a, b"1", "docx", LESSON, name="a")
    unrelated = stored(a, b"2", "docx", OTHER, name="b")
    services.check_file(original.pk)
    services.check_file(unrelated.pk)
    assert Band.objects.filter(kind="text").count() == 64  # 32 bands each: the index rows
    rnd = __import__("random").Random(4)
    for i in range(12):  # more earlier documents do not mean more work for the next one
        filler = "".join(rnd.choice("天地人你我他春风数学语文加减山水花草鸟虫鱼日月星") for _ in range(300))
        services.check_file(stored(a, f"f{i}".encode(), "docx", filler, name=f"f{i}").pk)
    copied = stored(b, b"3", "pdf", "前言：本设计参考了优秀课例。" + LESSON.replace("同学们", "孩子们"), name="c")
    with django_assert_max_num_queries(23):  # a lookup, not a scan of the 14 earlier documents
        services.check_file(copied.pk)
    match = Match.objects.get(new_file=copied)
    assert match.kind == "text" and match.earlier_file == original and match.similarity > 0.6
    assert any("秋天的雨" in p[4] for p in match.details["passages"])
    assert not Match.objects.filter(earlier_file=unrelated).exists()


def test_the_same_teachers_own_file_is_marked(teachers):
    a, _b = teachers
    first = stored(a, b"1", "docx", LESSON, name="a")
    services.check_file(first.pk)
    again = stored(a, b"2", "docx", LESSON + "（修改稿）", name="b")
    services.check_file(again.pk)
    assert Match.objects.get(new_file=again).same_owner is True


@pytest.mark.slow
def test_a_trimmed_retitled_video_copy_is_found(teachers, tmp_path):
    a, b = teachers
    original = stored(a, testing.lecture(tmp_path / "a.mp4", seed=11, seconds=90).read_bytes(), "mp4", name="a")
    other = stored(a, testing.lecture(tmp_path / "o.mp4", seed=12, seconds=90).read_bytes(), "mp4", name="o")
    services.check_file(original.pk)
    services.check_file(other.pk)
    copy = stored(b, testing.copy(tmp_path / "c.mp4", 11, seconds=90, trim_start=10, title_seed=77,
                                  out_size=(480, 270)).read_bytes(), "mp4", name="c")
    services.check_file(copy.pk)
    match = Match.objects.get(new_file=copy)
    assert match.kind == "video" and match.earlier_file == original and match.similarity >= 0.8
    seg = max(match.details["segments"], key=lambda s: s[1] - s[0])
    # The copy (new file) starts with its own 5 s card, then the original from its second 10: offset 5 s.
    assert seg[2] - seg[0] == pytest.approx(5, abs=1)
    assert not Match.objects.filter(earlier_file=other).exists()
    assert Signature.objects.count() == 3


def test_the_check_follows_the_compliance_check(teachers, monkeypatch, django_capture_on_commit_callbacks,
                                                settings):
    """A video's check is queued (it decodes every frame); any other file is checked at once, in the
    probe's task, once the probe's result is committed; a failed probe, or the setting off: nothing."""
    settings.ORIGINALITY_ON_PROBE = True
    from types import SimpleNamespace

    from media.signals import file_probed
    from originality import tasks

    queued = []
    monkeypatch.setattr(tasks, "check_file", SimpleNamespace(enqueue=queued.append))
    a, b = teachers
    first = stored(a, b"same bytes", "pdf", name="1")
    f = stored(b, b"same bytes", "pdf", LESSON, name="2")
    video = stored(b, b"a video", "mp4", name="3")
    with django_capture_on_commit_callbacks(execute=True):
        file_probed.send(sender=StoredFile, stored_file=f)
        file_probed.send(sender=StoredFile, stored_file=video)
        assert not Match.objects.exists()  # after the commit, not before
        f.probe_status = "failed"
        file_probed.send(sender=StoredFile, stored_file=f)
    assert queued == [str(video.pk)]
    assert Match.objects.get().earlier_file == first and Signature.objects.filter(stored_file=f).exists()
    settings.ORIGINALITY_ON_PROBE = False  # the test settings' default: nothing queued, nothing checked
    f.probe_status = video.probe_status = "done"
    Match.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        file_probed.send(sender=StoredFile, stored_file=f)
        file_probed.send(sender=StoredFile, stored_file=video)
    assert queued == [str(video.pk)] and not Match.objects.exists()


def test_a_check_that_fails_at_once_is_queued_instead(teachers, monkeypatch, django_capture_on_commit_callbacks,
                                                      settings):
    settings.ORIGINALITY_ON_PROBE = True
    from types import SimpleNamespace

    from media.signals import file_probed
    from originality import tasks

    queued = []
    monkeypatch.setattr(tasks, "check_file", SimpleNamespace(enqueue=queued.append))

    def broken(stored_file, **kwargs):
        raise RuntimeError("index unreachable")

    monkeypatch.setattr(services, "check_file", broken)
    f = stored(teachers[0], b"x", "pdf", LESSON)
    with django_capture_on_commit_callbacks(execute=True):
        file_probed.send(sender=StoredFile, stored_file=f)  # the probe's result stands: no exception
    assert queued == [str(f.pk)]


def test_a_probed_file_is_checked_with_the_file_as_the_probe_left_it(teachers, django_assert_max_num_queries):
    """Given the StoredFile (the probe's task), the check does not read it again: for a file that is
    neither a document nor a video and copies nothing, two statements (its old matches go, its hash
    is looked up)."""
    a, b = teachers
    stored(a, b"other bytes", "zip", name="1")
    first = stored(a, b"same bytes", "zip", name="2")
    second = stored(b, b"same bytes", "zip", name="3")
    with django_assert_max_num_queries(2):
        assert services.check_file(first) == {"exact": 0}
    assert services.check_file(second) == {"exact": 1}
    match = Match.objects.get()
    assert (match.new_file, match.earlier_file) == (second, first)


def test_the_earlier_copies_read_equals_the_orm_one(teachers):
    """``exact_matches``' read (every probed file that is not a video), compiled once: the same files
    as the ORM queryset, the file itself and later copies left out, oldest first."""
    from datetime import timedelta

    from django.utils import timezone

    a, b = teachers
    files = [stored(a if i % 2 else b, b"copied bytes", "pdf", name=str(i)) for i in range(4)]
    now = timezone.now()
    for i, f in enumerate(files):
        StoredFile.objects.filter(pk=f.pk).update(created_at=now - timedelta(minutes=10 - i))
    stored(a, b"other bytes", "pdf", name="other")
    middle = StoredFile.objects.get(pk=files[2].pk)
    got = services._EARLIER_COPIES.instances(middle.sha256, middle.created_at, middle.pk)
    assert [f.pk for f in got] == [f.pk for f in services._earlier_copies(middle.sha256, middle.created_at, middle.pk)]
    assert [f.pk for f in got] == [files[0].pk, files[1].pk]
    assert [m.earlier_file_id for m in services.exact_matches(middle)] == [files[0].pk, files[1].pk]
