"""Exceptions a handler raises to refuse politely; the dispatcher turns them into replies."""

from __future__ import annotations


class UserFacingError(Exception):
    """Refuses the request with the catalog message `key`; the unit of work is rolled back."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class UsageError(UserFacingError):
    """Bad arguments: answered with the command's usage line, after the detail when there is one."""

    def __init__(self, key: str | None = None, **params: object) -> None:
        super().__init__(key or "", **params)


class PermissionDenied(UserFacingError):
    """`who` names the catalog key (`who.*`) of the people who may do it."""

    def __init__(self, who: str) -> None:
        super().__init__("error.permission")
        self.who = who


class NotHandled(Exception):
    """Raised by the registry's fallback handler when free text is not for it (an unknown command)."""
