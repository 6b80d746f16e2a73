"""The server's own error for a request it cannot use (answered as JSON with its status)."""

from __future__ import annotations

from tinct.errors import TinctError


class RequestProblem(TinctError):
    """A request is unusable: a bad upload, field or point; ``status`` is the HTTP 4xx status."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status
