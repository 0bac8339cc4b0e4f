"""``check --deploy`` says when a node in scaled mode would use a secret key of its own."""

from __future__ import annotations

from workers import checks
from workers.checks import node_local_state


def test_nothing_to_say_on_sqlite(monkeypatch):
    monkeypatch.setattr(checks, "_scaled", lambda: False)
    monkeypatch.delenv("JPK_SECRET_KEY", raising=False)
    assert node_local_state() == []


def test_scaled_mode_needs_the_shared_secret_key(monkeypatch):
    monkeypatch.setattr(checks, "_scaled", lambda: True)
    monkeypatch.delenv("JPK_SECRET_KEY", raising=False)
    assert [m.id for m in node_local_state()] == ["jingpinke.W101"]
    assert "JPK_SECRET_KEY" in node_local_state()[0].msg
    monkeypatch.setenv("JPK_SECRET_KEY", "x" * 50)
    assert node_local_state() == []
