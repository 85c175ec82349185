"""The application's errors, raised by every layer (storage's guards, the workflow's
rules, the read side, the web layer); the web layer maps ``status`` to the HTTP code.

Messages are in Chinese because they reach users (the web pages and the bot show them);
``code`` is stable and machine-readable.
"""
from __future__ import annotations

from typing import Any, Optional


class AppError(Exception):
    status = 400

    def __init__(self, code: str, message: str, details: Optional[dict[str, Any]] = None, *,
                 ask_helpdesk: bool = False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        # Only the help desk can mend it (the org chart, a matter's set-up): the web layer,
        # which knows the configured number, adds it to the message.
        self.ask_helpdesk = ask_helpdesk

    def with_helpdesk_phone(self, phone: str) -> "AppError":
        if self.ask_helpdesk and phone not in self.message:
            self.message = f"{self.message}(技术咨询电话 {phone})"
            self.args = (self.message,)
        return self


class InvalidInput(AppError):
    status = 400


class NotAuthenticated(AppError):
    status = 401


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    """The thing is no longer in a state that allows the move (already decided …)."""

    status = 409


class Unprocessable(AppError):
    status = 422
