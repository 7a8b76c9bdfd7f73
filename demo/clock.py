"""The demo's clock: history is replayed through the real services at past instants.

Everything in the application reads the time through `crowd.core.db.utcnow()`. While
`demo_clock()` is open, it answers the instant the demo set (`clock.set(at)`) through the
core's extension point `use_clock`, so every row, event, ledger posting, timer and outbox
message a replayed step writes carries the step's time. Only `seed-demo` opens it, in its own
process; leaving it restores the real clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from crowd.core.db import use_clock


class _Clock:
    at: datetime = datetime.min.replace(tzinfo=UTC)

    def set(self, at: datetime) -> None:
        self.at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self.at


clock = _Clock()


@contextmanager
def demo_clock(start: datetime) -> Iterator[_Clock]:
    """Run the block with the application's clock at `start` (then wherever `set` moves it)."""
    clock.set(start)
    with use_clock(clock.now):
        yield clock
