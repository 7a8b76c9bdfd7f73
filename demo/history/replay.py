"""The replay engine: steps at past instants, run in time order through the real services.

Each step is a callable run with the application's clock at its instant (demo.clock), then
committed like a request; whatever it queued in the outbox runs after the commit, at that
instant too. When the simulated day changes, the outbox messages that fell due (timers:
auto-confirm, closing, review publication, resolution deadlines) run, and so do the
periodic jobs of crowd.schedule that shape history (payout run, level run, mentoring, top
performers, support auto-close), as the worker would have run them.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import click

from crowd import DOMAINS
from crowd.core.background import TASKS, due_message_ids, run_message
from crowd.core.db import commit
from crowd.core.errors import DomainError
from crowd.extensions import db
from demo.clock import clock

# Periodic jobs run once a simulated day (the others keep time the demo does not need).
DAILY = (
    "jobs.sweep_lifecycle",
    "jobs.publish_due_reviews",
    "payouts.run_payouts_if_due",
    "support.apply_due_resolutions",
    "support.close_resolved",
    "mentoring.finish_events",
    "mentoring.run_top_performers",
    "mentoring.graduate_mentees",
)
# Periodic jobs run once a simulated week (the crowd-wide ones, which take longer).
WEEKLY = ("onboarding.evaluate_levels", "payouts.bill_monthly_fees", "recruitment.sweep_referrals")

Step = Callable[[], None]


class Replay:
    """A queue of steps by instant; `run(until)` plays them in order."""

    def __init__(self) -> None:
        self._queue: list[tuple[datetime, int, Step]] = []
        self._order = itertools.count()
        self.refused: list[str] = []
        self._bar = None
        self._until = datetime.max.replace(tzinfo=UTC)

    def at(self, when: datetime, step: Step) -> None:
        """Queue `step` at `when`; a step may queue later ones while the replay runs."""
        heapq.heappush(self._queue, (when, next(self._order), step))
        if self._bar is not None and when < self._until:
            self._bar.length += 1

    def __len__(self) -> int:
        return len(self._queue)

    def run(self, until: datetime, *, label: str) -> int:
        """Play every step before `until`; later ones are dropped (they have not happened)."""
        played = 0
        day = None
        total = sum(1 for when, *_ in self._queue if when < until)
        bar = click.progressbar(length=total, label=label, file=sys.stderr, show_eta=True)
        with bar, _quiet_loggers():
            self._bar, self._until = bar, until
            while self._queue and self._queue[0][0] < until:
                when, _, step = heapq.heappop(self._queue)
                if day is not None and when.date() != day:
                    _new_day(when, day)
                day = when.date()
                clock.set(when)
                self._play(step)
                played += 1
                bar.update(1)
            self._queue.clear()
            self._bar = None
            clock.set(until)
            _run_due()
        return played

    def _play(self, step: Step) -> None:
        try:
            step()
            commit()
        except DomainError as error:
            # A step the history no longer allows (e.g. a job someone else changed first):
            # the service refused it, as it would a request; history goes on without it.
            db.session.rollback()
            self.refused.append(f"{getattr(step, '__name__', step)}: {error.detail}")


@contextmanager
def _quiet_loggers() -> Iterator[None]:
    """The domains log their periodic runs at INFO (a line a simulated day): during the replay
    only warnings and errors are shown, above the progress bar."""
    loggers = [logging.getLogger(name) for name in ("crowd", *DOMAINS)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _run_due() -> None:
    for message_id in due_message_ids():
        run_message(message_id)


def _new_day(when: datetime, previous) -> None:
    """What the worker did between two steps: due timers, then the periodic jobs."""
    midnight = when.replace(hour=0, minute=0, second=0, microsecond=0)
    clock.set(midnight + timedelta(minutes=5))
    _run_due()
    names = DAILY + (WEEKLY if midnight.weekday() == 0 else ())
    for name in names:
        TASKS[name].func()
        commit()
    _run_due()
