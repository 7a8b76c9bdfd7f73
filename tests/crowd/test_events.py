"""The domain event registry: subscribers run in registration order, once each, in the
emitter's unit of work; the wiring loaded at app start is what `flask crowd events` prints."""

from __future__ import annotations

import pytest

from crowd import EVENT_SUBSCRIBERS
from crowd.core import events
from crowd.core.events import Event, emit, subscribe, wiring


@pytest.fixture
def scratch(monkeypatch):
    """An empty registry for this test (the app's wiring is restored after it)."""
    monkeypatch.setattr(events, "_SUBSCRIBERS", {})
    monkeypatch.setattr(events, "_DECLARED", set())


def test_subscribers_run_in_order_once_each_with_the_event(scratch):
    seen = []

    @subscribe("thing.done", "thing.undone")
    def first(event: Event) -> None:
        seen.append(("first", event.name, event.payload["n"]))

    @subscribe("thing.done")
    def second(event: Event) -> None:
        seen.append(("second", event.name, event.payload["n"]))

    subscribe("thing.done")(first)  # a module loaded twice registers once
    emit(Event("thing.done", "thing", 7, "system", {"n": 1}))
    emit(Event("thing.undone", "thing", 7, 42, {"n": 2}))
    emit(Event("nobody.listens", "thing", 7, "system"))

    assert seen == [
        ("first", "thing.done", 1),
        ("second", "thing.done", 1),
        ("first", "thing.undone", 2),
    ]
    here = f"{__name__}.test_subscribers_run_in_order_once_each_with_the_event.<locals>"
    assert wiring()["thing.done"] == [f"{here}.first", f"{here}.second"]


def test_a_failing_subscriber_fails_the_emit(scratch):
    @subscribe("thing.done")
    def broken(event: Event) -> None:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        emit(Event("thing.done", "thing", 1, "system"))


def test_subscribers_run_in_the_declared_module_order_whatever_was_imported_first(scratch):
    def later(event: Event) -> None: ...

    def earlier(event: Event) -> None: ...

    later.__module__, earlier.__module__ = "json", "string"
    later.__qualname__, earlier.__qualname__ = "later", "earlier"
    # "json" was imported (and registered) first, but the list puts "string" first.
    subscribe("thing.done")(later)
    subscribe("thing.done")(earlier)

    events.load_subscribers(["string", "json"])

    assert wiring() == {"thing.done": ["string.earlier", "json.later"]}


def test_the_app_loads_every_listed_subscriber_module(app):
    modules = {name.rsplit(".", 1)[0] for subs in wiring().values() for name in subs}
    assert set(EVENT_SUBSCRIBERS) <= modules


def test_an_approval_is_wired_to_mentoring_and_recruitment(app):
    assert wiring()["application.approved"] == [
        "mentoring.subscribers.find_mentor",
        "recruitment.events.admitted",
    ]


def test_a_declared_event_is_listed_without_subscribers(scratch):
    events.declare("thing.started", "thing.done")

    @subscribe("thing.done")
    def react(event: Event) -> None:
        pass

    assert wiring() == {"thing.done": [f"{__name__}.{react.__qualname__}"], "thing.started": []}


def test_a_transition_event_carries_the_move_and_the_lifecycles_own_fields(scratch):
    seen = []
    subscribe("thing.done")(seen.append)

    events.emit_transition(
        "thing", 7, action="finish", was="started", now="done", actor=None, kind="big"
    )

    [event] = seen
    assert (event.name, event.subject_type, event.subject_id, event.actor) == (
        "thing.done",
        "thing",
        7,
        "system",
    )
    assert event.payload == {
        "action": "finish",
        "from_status": "started",
        "to_status": "done",
        "kind": "big",
    }


def test_emit_many_hands_a_batch_subscriber_each_names_events_at_once(scratch):
    seen = []

    @subscribe("thing.done", batch=True)
    def batch(events_: list[Event]) -> None:
        seen.append(("batch", [e.payload["n"] for e in events_]))

    @subscribe("thing.done", "thing.undone")
    def single(event: Event) -> None:
        seen.append(("single", event.name, event.payload["n"]))

    events.emit_many(
        [
            Event("thing.done", "thing", 1, "system", {"n": 1}),
            Event("thing.undone", "thing", 2, "system", {"n": 2}),
            Event("thing.done", "thing", 3, "system", {"n": 3}),
        ]
    )
    assert seen == [
        ("batch", [1, 3]),
        ("single", "thing.done", 1),
        ("single", "thing.done", 3),
        ("single", "thing.undone", 2),
    ]
    seen.clear()
    emit(Event("thing.done", "thing", 4, "system", {"n": 4}))  # a list of one for the batch one
    assert seen == [("batch", [4]), ("single", "thing.done", 4)]
