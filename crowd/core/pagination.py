"""Keyset pagination: stable under inserts, cheap at any depth, capped page size."""

from __future__ import annotations

import base64
import json
from typing import Any

import marshmallow as ma
from flask import current_app
from sqlalchemy import Select, func, select, tuple_

from crowd.core import jsonio
from crowd.core.db import db
from crowd.core.errors import Unprocessable


class PageArgsSchema(ma.Schema):
    """?limit=&cursor=: the cursor is the opaque next_cursor of the previous page."""

    limit = ma.fields.Integer(validate=ma.validate.Range(min=1), load_default=None)
    cursor = ma.fields.String(validate=ma.validate.Length(max=200), load_default=None)


class PageSchema(ma.Schema):
    next_cursor = ma.fields.String(allow_none=True)
    limit = ma.fields.Integer()
    total = ma.fields.Integer(metadata={"description": "Items matching the filters"})


def page_of(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """A response schema {items: [...], page: {...}} for item_schema."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(
        name,
        (ma.Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema)),
            "page": ma.fields.Nested(PageSchema),
        },
    )


def _bad_cursor() -> Unprocessable:
    return Unprocessable("cursor is not valid", errors={"query": {"cursor": ["not valid"]}})


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        # The cursor comes back from the client: its values go into SQL, so the strict loader.
        values = jsonio.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, jsonio.InvalidJSONValue):
        raise _bad_cursor() from None
    if not isinstance(values, list):
        raise _bad_cursor()
    return values


def paginate(
    query: Select, args: dict, *, order: list, descending: bool = False, with_total=True
) -> dict:
    """One page of `query` ordered by the `order` columns (the last must be unique, e.g. id)."""

    settings = current_app.config["CROWD_SETTINGS"]
    limit = min(args.get("limit") or settings.page_size_default, settings.page_size_max)
    paged = query
    if args.get("cursor"):
        values = _decode(args["cursor"])
        if len(values) != len(order):
            raise _bad_cursor()
        values = [_coerce(column, value) for column, value in zip(order, values, strict=True)]
        key = tuple_(*order)
        paged = paged.where(key < tuple_(*values) if descending else key > tuple_(*values))
    paged = paged.order_by(*[c.desc() if descending else c.asc() for c in order]).limit(limit + 1)
    rows = list(db.session.scalars(paged))
    total = None
    if with_total:
        total = page_total(query, rows, limit, first_page=not args.get("cursor"))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([getattr(last, column.key) for column in order])
    return {"items": rows, "page": {"next_cursor": next_cursor, "limit": limit, "total": total}}


def page_total(query: Select, rows: list, limit: int, *, first_page: bool) -> int:
    """How many rows the whole query has; a first page that holds them all already says.

    `rows` is what the page query fetched (up to limit + 1).
    """

    if first_page and len(rows) <= limit:
        return len(rows)
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def _coerce(column, value):
    from datetime import datetime

    python_type = getattr(column.type, "python_type", None)
    try:
        if column.type.__class__.__name__ == "UTCDateTime" or python_type is datetime:
            return datetime.fromisoformat(value)
        if python_type is int:
            return int(value)
    except (TypeError, ValueError, NotImplementedError):
        raise _bad_cursor() from None
    return value


def like_prefix(text: str) -> str:
    """A LIKE pattern (escape character \\) for lower-cased values starting with `text`: an
    index on lower(column) with text_pattern_ops serves it (the people search)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"
