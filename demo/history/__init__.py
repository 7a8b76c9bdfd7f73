"""Six months of demo history, replayed through the services (see demo.history.replay).

`seed_history` plans everything from the random source first (same seed, same history),
then plays it in time order with the application's clock at each step (demo.clock).
"""

from __future__ import annotations

import os
import random
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import event, func, select

from crowd.core.db import commit
from crowd.extensions import db
from demo.clock import demo_clock
from demo.history.cast import load_cast
from demo.history.jobs import JobSteps, offers_after_posting, plan_jobs
from demo.history.programmes import queue_programmes
from demo.history.replay import Replay
from jobs.models import Job
from payouts.accounts import ensure_payout_account
from payouts.payment_methods import set_own_payment_method

HISTORY_DAYS = 182
CARDS = ("pm_card_visa", "pm_card_mastercard", "pm_card_visa_debit")


def seed_history(*, seed: int, cm_emails: tuple[str, ...], now: datetime, scale: float) -> str:
    """Replay six months up to `now`; a database that has jobs already keeps them."""
    if db.session.scalar(select(func.count(Job.id))):
        return "history: already present"
    rng = random.Random(seed * 7919 + 18)
    start = now - timedelta(days=HISTORY_DAYS)
    cast = load_cast(cm_emails)
    plans = plan_jobs(rng, cast, start, now, scale)
    replay = Replay()
    replay.at(start, lambda: _accounts(cast, {p.member.id for p in plans} | _backups(plans)))
    steps = JobSteps(cast, replay, rng)
    for plan in plans:
        steps.queue(plan)
    queue_programmes(rng, cast, replay, start, now)
    with _fast_sqlite(), _inline_background(), demo_clock(start), offers_after_posting():
        played = replay.run(now, label="Replaying six months")
    commit()
    states = Counter(db.session.scalars(select(Job.status)))
    summary = ", ".join(f"{n} {s}" for s, n in states.most_common())
    refused = (
        f"; {len(replay.refused)} refused by the services, e.g. {'; '.join(replay.refused[:3])}"
        if replay.refused
        else ""
    )
    if os.environ.get("CROWD_DEMO_REFUSALS"):
        print("\n".join(replay.refused), file=sys.stderr)
    return f"history: {len(plans)} jobs ({summary}), {played} steps{refused}"


@contextmanager
def _inline_background() -> Iterator[None]:
    """Background work runs in this process at each step's instant, as without Redis: a
    worker would run it later, at the real time, and history would not follow from it."""
    settings = current_app.config["CROWD_SETTINGS"]
    current_app.config["CROWD_SETTINGS"] = settings.model_copy(update={"redis_url": None})
    try:
        yield
    finally:
        current_app.config["CROWD_SETTINGS"] = settings


@contextmanager
def _fast_sqlite() -> Iterator[None]:
    """Thousands of small commits: on SQLite, do not wait for the disk after each (a crash
    mid-seed leaves a database to start again from anyway; see refuse_partial_data)."""
    if db.engine.dialect.name != "sqlite":
        yield
        return

    def no_sync(dbapi_connection, *_) -> None:
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    def full_sync(dbapi_connection, *_) -> None:
        dbapi_connection.execute("PRAGMA synchronous=FULL")

    commit()
    event.listen(db.engine, "checkout", no_sync)
    try:
        yield
    finally:
        commit()
        event.remove(db.engine, "checkout", no_sync)
        event.listen(db.engine, "checkin", full_sync)
        db.session.close()
        event.remove(db.engine, "checkin", full_sync)


def _backups(plans) -> set[int]:
    return {p.backup.id for p in plans if p.backup is not None}


def _accounts(cast, member_ids: set[int]) -> None:
    """Customers save a card, working members set up their payout account."""
    for number, customer in enumerate(cast.customers):
        set_own_payment_method(actor=customer.principal, payment_method=CARDS[number % 3])
    for member_id in sorted(member_ids | {m.id for m in cast.members if m.level >= 2}):
        ensure_payout_account(
            actor=cast.member_principal(member_id),
            refresh_url="https://crowd.example/payout-account/refresh",
            return_url="https://crowd.example/payout-account/done",
        )
