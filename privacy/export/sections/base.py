"""The pieces every section is made of: whose data (Person), a section, and the helpers that
read a table by name and choose its columns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Column, Select, Table, select

from crowd.core.db import db


@dataclass(frozen=True)
class Person:
    """Whose data: the user and their profile (a member's or a customer's), if any."""

    user_id: int
    role: str
    member_id: int | None
    customer_id: int | None
    locale: str | None

    @property
    def side(self) -> str | None:
        """The party they are on a job or ticket: member, customer or None (staff)."""
        if self.member_id is not None:
            return "member"
        if self.customer_id is not None:
            return "customer"
        return None


@dataclass(frozen=True)
class Section:
    """One part of the export: `name` (its CSV file and its key in data.json), what it holds
    (for the README) and its query for a person (None: nothing of this kind for them)."""

    name: str
    description: object
    query: Callable[[Person], Select | None]


def t(name: str) -> Table:
    """A table by its name (every domain's tables are in the metadata once the app is up)."""
    return db.metadata.tables[name]


def columns(table: Table, *, without: tuple[str, ...] = ()) -> list[Column]:
    """The table's columns but `without`, the id first (the mixin puts it last)."""
    chosen = [column for column in table.c if column.name not in without]
    chosen.sort(key=lambda column: column.name != "id")
    return chosen


def only(*wanted: str, table: Table) -> list[Column]:
    return [table.c[name] for name in wanted]


def member_table(
    name: str, *, without: tuple[str, ...] = (), order: str | None = "id"
) -> Callable[[Person], Select | None]:
    """A section of a member's rows in `name` (by member_id)."""

    def query(person: Person) -> Select | None:
        if person.member_id is None:
            return None
        table = t(name)
        chosen = select(*columns(table, without=without)).where(
            table.c.member_id == person.member_id
        )
        return chosen.order_by(table.c[order]) if order else chosen

    return query


def user_table(
    name: str, *, without: tuple[str, ...] = (), order: str | None = "id"
) -> Callable[[Person], Select]:
    """A section of a user's rows in `name` (by user_id)."""

    def query(person: Person) -> Select:
        table = t(name)
        chosen = select(*columns(table, without=without)).where(table.c.user_id == person.user_id)
        return chosen.order_by(table.c[order]) if order else chosen

    return query
