"""The one user-facing error type, caught once at the CLI edge (and the API edge)."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix: printed as one line ``error: ...``, exit status 1."""

    def __init__(self, what: str, hint: str = "") -> None:
        self.what = what
        self.hint = hint
        super().__init__(f"{what}: {hint}" if hint else what)


class NotFound(UserError):
    """A person, face or photo the user named does not exist."""
