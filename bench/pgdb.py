"""What the benchmarks share: a database of their own on the PostgreSQL server named by a URL
(created fresh, dropped afterwards), and percentiles by nearest rank."""

from __future__ import annotations

import math

import psycopg
from sqlalchemy import make_url


def admin_url(url: str) -> str:
    """The server's maintenance database (`postgres`), for CREATE/DROP DATABASE."""
    return make_url(url).set(drivername="postgresql", database="postgres").render_as_string(False)


def plain_url(url: str) -> str:
    """The same database for psycopg itself (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(False)


def recreate_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile by nearest rank (p95 of 50 samples is the 48th smallest)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]
