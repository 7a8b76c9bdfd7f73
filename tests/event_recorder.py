"""Record the domain events a test causes, with a test-only subscriber taken off afterwards so
the app's wiring stays as it was: the `recorded` fixture (tests/conftest.py) or, for a block,
`with recording("offer.sent", …) as caught`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from crowd.core import events
from crowd.core.events import Event


class Recorder:
    """What was emitted, in order; `of(name)` the events of one name. With `seen`, each entry
    is `(event, seen(event))`, to catch what a subscriber would see at that moment."""

    def __init__(self, seen: Callable[[Event], object] | None = None) -> None:
        self.seen: list = []
        self._names: list[str] = []
        self._transform = seen

    def listen(self, *names: str) -> Recorder:
        for name in names:
            events._SUBSCRIBERS.setdefault(name, []).append(self._record)
            self._names.append(name)
        return self

    def _record(self, event: Event) -> None:
        self.seen.append(event if self._transform is None else (event, self._transform(event)))

    def of(self, name: str) -> list[Event]:
        return [event for event in self.seen if event.name == name]

    def names(self) -> list[str]:
        return [event.name for event in self.seen]

    def close(self) -> None:
        for name in self._names:
            events._SUBSCRIBERS[name].remove(self._record)
            if not events._SUBSCRIBERS[name]:
                del events._SUBSCRIBERS[name]


@contextmanager
def recording(*names: str, seen: Callable[[Event], object] | None = None) -> Iterator[list]:
    """The events of `names` emitted inside the block, in order (see Recorder for `seen`)."""
    recorder = Recorder(seen).listen(*names)
    try:
        yield recorder.seen
    finally:
        recorder.close()
