"""Domain events: an in-process registry of who reacts to what, run in the emitter's unit of work.

A lifecycle's one `transition()` emits an `Event` ("job.confirmed", …); each package that
reacts declares its subscribers in its own module (`payouts/events.py`, …) with
`@subscribe("job.confirmed")`. `emit` runs them synchronously, in registration order, inside
the caller's transaction: they write rows and never commit, and anything slow or external
they enqueue through the outbox (`crowd.core.background.enqueue`), which runs after the commit.
A subscriber that raises fails the whole unit of work, as any other step would.

Work done for many subjects at once (a payout run's batch) emits its events together with
`emit_many`; a subscriber registered with `batch=True` takes a list of events of its name and
runs once per such call, so what it reads it reads for the batch, not per event. `emit` hands
it a list of one.

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


def subscribe(*names: str, batch: bool = False) -> Callable[[Subscriber], Subscriber]:
    """Register the decorated function for each event name (once, however often loaded); with
    `batch` it takes a list of events of one name (see the module)."""

    def register(function: Subscriber) -> Subscriber:
        if batch:
            function.takes_batch = True
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
        transition_event(
            kind,
            subject_id,
            action=action,
            was=was,
            now=now,
            actor=actor,
            subject_type=subject_type,
            occurred_at=occurred_at,
            **payload,
        )
    )


def transition_event(
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
) -> Event:
    """The event `emit_transition` emits, to emit later with others (`emit_many`)."""
    return Event(
        name=f"{kind}.{now}",
        subject_type=subject_type or kind,
        subject_id=subject_id,
        actor="system" if actor is None else actor,
        payload={"action": action, "from_status": was, "to_status": now, **payload},
        occurred_at=occurred_at or utcnow(),
    )


def declare(*names: str) -> None:
    """Name the events a module emits, so the wiring lists them before anyone subscribes."""
    _DECLARED.update(names)


def emit(event: Event) -> None:
    """Run every subscriber of `event.name` now, in the caller's unit of work."""
    for subscriber in tuple(_SUBSCRIBERS.get(event.name, ())):
        subscriber([event] if getattr(subscriber, "takes_batch", False) else event)


def emit_many(events: Iterable[Event]) -> None:
    """Run the subscribers of many events now, in the caller's unit of work: per event name
    (in the order the names first occur), each subscriber in turn — a batch subscriber once
    with the list of that name's events, any other once per event, in the given order."""
    by_name: dict[str, list[Event]] = {}
    for event in events:
        by_name.setdefault(event.name, []).append(event)
    for name, group in by_name.items():
        for subscriber in tuple(_SUBSCRIBERS.get(name, ())):
            if getattr(subscriber, "takes_batch", False):
                subscriber(group)
            else:
                for event in group:
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
