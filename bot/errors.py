"""Errors the domain raises; handlers turn them into polite replies."""


class UserFacingError(Exception):
    """Something the person can fix or should know; the message is shown as is."""


class NotFound(UserFacingError):
    pass


class NotAllowed(UserFacingError):
    pass


class InvalidInput(UserFacingError):
    pass


class DuplicateRequest(Exception):
    """This Slack request (a retry or a duplicate delivery) was already handled."""

    def __init__(self, key: str, result: str) -> None:
        super().__init__(key)
        self.key = key
        self.result = result
