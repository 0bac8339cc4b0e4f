"""``check --deploy`` names what a node would keep on its own disk in scaled mode."""

from __future__ import annotations

from workers import checks
from workers.checks import node_local_state


def ids(settings):
    return [m.id for m in node_local_state()]


def test_nothing_to_say_on_sqlite(settings, monkeypatch):
    monkeypatch.setattr(checks, "_scaled", lambda: False)
    assert ids(settings) == []


def test_scaled_mode_names_the_node_local_state(settings, monkeypatch):
    monkeypatch.setattr(checks, "_scaled", lambda: True)
    monkeypatch.delenv("JPK_SECRET_KEY", raising=False)
    assert ids(settings) == ["jingpinke.W101", "jingpinke.I102", "jingpinke.I103"]
    monkeypatch.setenv("JPK_SECRET_KEY", "x" * 50)
    messages = node_local_state()
    assert [m.id for m in messages] == (["jingpinke.I103"] if settings.STORAGES["default"]["BACKEND"].endswith("S3Storage")
                                        else ["jingpinke.I102", "jingpinke.I103"])
    assert str(settings.UPLOAD_DIR) in messages[-1].msg
