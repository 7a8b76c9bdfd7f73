"""Domain events: an in-process registry of who reacts to what, run in the emitter's unit of work.

A lifecycle's one `transition()` emits an `Event` ("job.confirmed", …); each package that
reacts declares its subscribers in its own module (`payouts/events.py`, …) with
`@subscribe("job.confirmed")`. `emit` runs them synchronously, in registration order, inside
the caller's transaction: they write rows and never commit, and anything slow or external
they enqueue through the outbox (`crowd.core.background.enqueue`), which runs after the commit.
A subscriber that raises fails the whole unit of work, as any other step would.

The subscriber modules are loaded explicitly at app start (`load_subscribers`, from the list in
the app factory), never by a chance import, so the wiring is the same in every process and
`flask crowd events` prints it. The core imports no domain: the list is of module names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crowd.core.db import utcnow

Subscriber = Callable[["Event"], None]

_SUBSCRIBERS: dict[str, list[Subscriber]] = {}
# Events their emitters named (`declare`), listed by `wiring()` with or without subscribers.
_DECLARED: set[str] = set()


@dataclass(frozen=True)
class Event:
    """Something that happened: `name` ("job.confirmed") to `subject_type` #`subject_id`, by
    `actor` (a user id, or "system"), with what the subscribers need in `payload`."""

    name: str
    subject_type: str
    subject_id: int
    actor: int | str
    payload: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime = field(default_factory=utcnow)


def subscribe(*names: str) -> Callable[[Subscriber], Subscriber]:
    """Register the decorated function for each event name (once, however often loaded)."""

    def register(function: Subscriber) -> Subscriber:
        for name in names:
            registered = _SUBSCRIBERS.setdefault(name, [])
            key = _qualified(function)
            if all(_qualified(known) != key for known in registered):
                registered.append(function)
        return function

    return register


def emit_transition(
    kind: str,
    subject_id: int,
    /,
    *,
    action: str,
    was: str | None,
    now: str,
    actor: int | str | None,
    subject_type: str | None = None,
    occurred_at: datetime | None = None,
    **payload: Any,
) -> None:
    """Emit `<kind>.<now>` for a lifecycle's move by `action` from `was` (None: created), with
    what every transition event carries (action, from_status, to_status) and `payload`. An
    `actor` of None is the system."""
    emit(
        Event(
            name=f"{kind}.{now}",
            subject_type=subject_type or kind,
            subject_id=subject_id,
            actor="system" if actor is None else actor,
            payload={"action": action, "from_status": was, "to_status": now, **payload},
            occurred_at=occurred_at or utcnow(),
        )
    )


def declare(*names: str) -> None:
    """Name the events a module emits, so the wiring lists them before anyone subscribes."""
    _DECLARED.update(names)


def emit(event: Event) -> None:
    """Run every subscriber of `event.name` now, in the caller's unit of work."""
    for subscriber in tuple(_SUBSCRIBERS.get(event.name, ())):
        subscriber(event)


def load_subscribers(modules: Iterable[str]) -> None:
    """Import the packages' subscriber modules (their `@subscribe` calls register them), then
    order every event's subscribers by that list, whatever imported a module first: the order
    they run in is the declared one, not an accident of imports."""
    modules = tuple(modules)
    for module in modules:
        importlib.import_module(module)
    rank = {module: index for index, module in enumerate(modules)}
    for subscribers in _SUBSCRIBERS.values():
        # Stable: within one module, the order of definition stays.
        subscribers.sort(key=lambda function: rank.get(function.__module__, len(rank)))


def wiring() -> dict[str, list[str]]:
    """Every event name with its subscribers as "module.function", in the order they run."""
    names = sorted(_DECLARED | set(_SUBSCRIBERS))
    return {name: [_qualified(f) for f in _SUBSCRIBERS.get(name, ())] for name in names}


def _qualified(function: Subscriber) -> str:
    return f"{function.__module__}.{function.__qualname__}"
