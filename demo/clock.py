"""The demo's clock: history is replayed through the real services at past instants.

Everything in the application reads the time through `crowd.core.db.utcnow()`, which asks
`datetime.now(UTC)` of that module. While `demo_clock()` is open, that `datetime` answers the
instant the demo set (`clock.set(at)`), so every row, event, ledger posting, timer and outbox
message a replayed step writes carries the step's time. Only `seed-demo` opens it, in its own
process; leaving it restores the real clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from crowd.core import db as core_db


class _Clock:
    at: datetime | None = None

    def set(self, at: datetime) -> None:
        self.at = at.astimezone(UTC)


clock = _Clock()


class _DemoDatetime(datetime):
    @classmethod
    def now(cls, tz=None):  # noqa: D102 - the real signature
        at = clock.at
        if at is None:
            return datetime.now(tz)
        return at.astimezone(tz) if tz is not None else at.replace(tzinfo=None)


@contextmanager
def demo_clock(start: datetime) -> Iterator[_Clock]:
    """Run the block with the application's clock at `start` (then wherever `set` moves it)."""
    real = core_db.datetime
    clock.set(start)
    core_db.datetime = _DemoDatetime
    try:
        yield clock
    finally:
        core_db.datetime = real
        clock.at = None
