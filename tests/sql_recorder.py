"""Record the SQL the app's engine sends while a block runs (to assert that a path sends none)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from crowd.extensions import db


@contextmanager
def sql_statements() -> Iterator[list[str]]:
    """Every statement the app's engine sends meanwhile."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
