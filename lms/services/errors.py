"""Errors a use case raises; the web and CLI layers turn them into responses and messages."""

from __future__ import annotations

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "ServiceError", "Throttled"]


class ServiceError(Exception):
    code = "error"
    status = 400

    def __init__(self, key: str, fields: dict[str, str] | None = None, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.fields = fields or {}
        self.params = params


class Invalid(ServiceError):
    code = "invalid"
    status = 422


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class Forbidden(ServiceError):
    code = "forbidden"
    status = 403


class Conflict(ServiceError):
    code = "conflict"
    status = 409


class Throttled(ServiceError):
    code = "throttled"
    status = 429
