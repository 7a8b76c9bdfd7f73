"""What console views share when they read a posted form: the fields, a refusal as one line for
the page, and a datetime-local field as the API's ISO 8601.

A view loads the fields with the API's own schema and hands them to the API's own service; when
either refuses, it shows its page again with `problem(error)` and the refusal's status (`status`)
— the request's unit of work rolls back."""

from __future__ import annotations

import marshmallow as ma
from flask import request

from crowd.core.errors import DomainError


def fields(*names: str) -> dict:
    """The named, non-empty fields of the posted form (empty ones are left to the defaults)."""
    values = {name: (request.form.get(name) or "").strip() for name in names}
    return {name: value for name, value in values.items() if value}


def problem(error: ma.ValidationError | DomainError) -> str:
    """One line for the page: the fields at fault and what is wrong with them."""
    if isinstance(error, DomainError):
        return str(error.detail)
    messages = error.normalized_messages()
    return "; ".join(
        f"{field}: {' '.join(map(str, text if isinstance(text, list) else [text]))}"
        for field, text in messages.items()
    )


def status(error: ma.ValidationError | DomainError) -> int:
    """The HTTP status of a refusal: the domain error's own, 422 for a schema's."""
    return error.status if isinstance(error, DomainError) else 422


def utc(value: str | None) -> str | None:
    """A datetime-local field's value (read as UTC) as the API's ISO 8601 with offset."""
    if value and len(value) in (16, 19) and "T" in value:
        return value + ("" if len(value) == 19 else ":00") + "+00:00"
    return value
