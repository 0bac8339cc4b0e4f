"""What the selection workflow announces. Apps above selection (notifications) listen; selection
imports none of them, so the layers point one way.

- ``entry_decided``: sent inside the decision's transaction, after an entry was saved and audited.
  Keyword arguments: ``entry`` (the entry decided), ``action`` (return, decline, recommend, undo,
  award, unaward, or resubmit when a teacher sends a returned course back), ``actor``, ``before``
  (the entry's snapshot before the decision: state, rank, awarded, …) and ``now``; on a
  recommendation also ``next_entry``, the entry it created at the level above (None when the
  course leaves the platform).
  Receivers must not undo the decision: they catch their own failures.
"""

from __future__ import annotations

from django.dispatch import Signal

entry_decided = Signal()
