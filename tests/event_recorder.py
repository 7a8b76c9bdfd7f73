"""A test-only subscriber that records the events of given names, removed after the test
(the `recorded` fixture, in tests/conftest.py)."""

from __future__ import annotations

from crowd.core import events
from crowd.core.events import Event


class Recorder:
    """What was emitted, in order; `of(name)` the events of one name."""

    def __init__(self) -> None:
        self.seen: list[Event] = []
        self._names: list[str] = []

    def listen(self, *names: str) -> Recorder:
        for name in names:
            events._SUBSCRIBERS.setdefault(name, []).append(self._record)
            self._names.append(name)
        return self

    def _record(self, event: Event) -> None:
        self.seen.append(event)

    def of(self, name: str) -> list[Event]:
        return [event for event in self.seen if event.name == name]

    def names(self) -> list[str]:
        return [event.name for event in self.seen]

    def close(self) -> None:
        for name in self._names:
            events._SUBSCRIBERS[name].remove(self._record)
