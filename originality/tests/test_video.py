"""Video signatures find every kind of copy and no unrelated video (generated lectures)."""

import pytest

from originality import testing, video

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("orig")
    original = testing.lecture(d / "a.mp4", seed=1)
    made = {
        "reencoded": testing.copy(d / "re.mp4", 1, out_size=(480, 270), bitrate=150_000),
        "trimmed": testing.copy(d / "trim.mp4", 1, trim_start=12, trim_end=9),
        "retitled": testing.copy(d / "title.mp4", 1, title_seed=99),
        "cropped": testing.copy(d / "crop.mp4", 1, crop=0.05),
        "unrelated": testing.lecture(d / "b.mp4", seed=2),
        "unrelated2": testing.lecture(d / "c.mp4", seed=3, width=480, height=270),
    }
    sig = lambda p: video.sign(p, skip_seconds=5)  # noqa: E731
    return sig(original), {k: sig(p) for k, p in made.items()}


@pytest.mark.parametrize("kind", ["reencoded", "trimmed", "retitled", "cropped"])
def test_each_kind_of_copy_is_found_with_its_segments(clips, kind):
    original, copies = clips
    match = video.compare(original, copies[kind])
    assert match is not None, kind
    assert match.similarity >= 0.8, (kind, match)
    # The segments say where: the copy trimmed by 12 s shows the original's second 12 onwards at 0.
    if kind == "trimmed":
        seg = max(match.segments, key=lambda g: g.seconds)
        assert seg.a_start - seg.b_start == pytest.approx(12, abs=1)


@pytest.mark.parametrize("kind", ["unrelated", "unrelated2"])
def test_unrelated_videos_do_not_match(clips, kind):
    original, copies = clips
    assert video.compare(original, copies[kind]) is None


def test_the_shared_title_card_alone_is_not_a_copy(tmp_path):
    """Two different lectures with the same (national template) title card."""
    a = video.sign(testing.lecture(tmp_path / "a.mp4", seed=5, seconds=30, title_seed=0), skip_seconds=5)
    b = video.sign(testing.lecture(tmp_path / "b.mp4", seed=6, seconds=30, title_seed=0), skip_seconds=5)
    assert video.compare(a, b) is None


def test_flat_frames_are_not_signed():
    import numpy as np

    assert video.frame_hash(np.full((72, 128), 16, dtype=np.uint8)) is None
    rnd = np.random.default_rng(0).integers(0, 255, (72, 128), dtype=np.uint8)
    assert isinstance(video.frame_hash(rnd), int)
