"""The one exception a use case raises to refuse: pages show it, the API returns it as JSON."""

from __future__ import annotations


class ServiceError(Exception):
    """A refused action. ``message`` says in Chinese what is wrong and what to do;
    ``errors`` may list details (e.g. every bad row of an imported sheet)."""

    status = 400

    def __init__(self, message: str, errors: list | None = None, status: int | None = None):
        super().__init__(message)
        self.message = str(message)
        self.errors = errors or []
        if status is not None:
            self.status = status
