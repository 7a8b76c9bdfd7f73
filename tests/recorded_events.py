"""Record the domain events a test causes: `recording("offer.sent", …)` subscribes a recorder
for those names and takes it off again afterwards, so the app's wiring stays as it was."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from crowd.core import events
from crowd.core.events import Event, subscribe


@contextmanager
def recording(*names: str, seen: Callable[[Event], object] | None = None) -> Iterator[list]:
    """The events of `names` emitted inside the block, in order; `seen(event)` (if given) is
    recorded with each, as `(event, seen(event))`, to catch what a subscriber sees."""
    caught: list = []

    def recorder(event: Event) -> None:
        caught.append(event if seen is None else (event, seen(event)))

    subscribe(*names)(recorder)
    try:
        yield caught
    finally:
        for name in names:
            events._SUBSCRIBERS[name].remove(recorder)
            if not events._SUBSCRIBERS[name]:
                del events._SUBSCRIBERS[name]
