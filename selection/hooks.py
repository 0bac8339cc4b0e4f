"""Checks that apps above selection add to its use cases, without selection importing them.

Each hook is a list of callables; an app registers its own in ``AppConfig.ready()``. The first
that returns a message refuses the action with it (a ``ServiceError``); ``None`` lets it pass.

- ``confirm_blockers(unit, level) -> str | None``: consulted by ``services.confirm`` before a
  unit confirms its summary table at a level (e.g. review: a 公示 not yet final);
- ``decision_blockers(entry, action) -> str | None``: consulted by ``services.decide`` and
  ``services.set_award`` (action ``award`` / ``unaward``) before an entry changes (e.g. review: the
  entry is on a 公示 list that is not final).
"""

from __future__ import annotations

from collections.abc import Callable

confirm_blockers: list[Callable] = []
decision_blockers: list[Callable] = []


def first_block(hooks: list[Callable], *args) -> str | None:
    for hook in hooks:
        message = hook(*args)
        if message:
            return str(message)
    return None
