"""Benchmark: a broadcast to 100,000 members on PostgreSQL — queueing it, then delivering its
emails to an SMTP server with the real sender.

    .venv/bin/python bench/broadcast_delivery.py [--members 100000] [--workers 4]
    .venv/bin/python bench/broadcast_delivery.py --smoke      # 200 members, a few seconds

DATABASE_URL names the PostgreSQL server (default below); the bench creates its own database
`crowd_bench_broadcast_<pid>` there and drops it at the end (`--keep` keeps it).

1. Seeding: N active level-1 members with their users, COPYed in batches (progress and ETA).
2. Queueing: an announcement to all of them (segment: level 1) sent as staff send it
   (`mentoring.broadcasts.service.send_broadcast`), its background work run inline in this
   process — the recipients frozen in one INSERT … SELECT, then batches of 500, each writing
   the inbox entries and queueing an email and a push delivery per member
   (notifications.delivery.queue_deliveries: one INSERT … SELECT per channel). The hand-over
   to the sender is held back in this phase, so it times queueing alone. Target ≤ 60 s.
3. Delivery: an aiosmtpd server in this process (a sink: counts and drops each message) and
   `--workers` processes, each running the pipeline's sender (`notifications.send_due`
   through crowd.core.background.run_periodic, as the RQ workers and the sweeper run it) one
   batch (`--batch` deliveries) per run, until nothing is due — claim, render, send over SMTP
   (one connection per run), record. Push deliveries go through the same runs (the members
   have no device: suppressed). Bounded by `--max-seconds`.
4. Floor: the same number of messages sent with plain smtplib over one connection to the same
   sink, from one process, with a message of the same size built beforehand.

Printed: seeding time, queueing time (and rows/s), emails delivered per second, the per-batch
median and p95, the ratio to the floor, the load average, and a check that every email went out
exactly once (the sink's count, the deliveries' states).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import smtplib
import socket
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import make_url  # noqa: E402

from bench.pgdb import admin_url, drop_database, percentile, plain_url  # noqa: E402

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SEED_BATCH = 20_000
QUEUE_TARGET_SECONDS = 60.0


def create_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    """The SMTP server's handler: counts every message, keeps none."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
        return "250 Message accepted for delivery"


def app_config(url: str, smtp_port: int, secret: str) -> dict:
    return {
        "DATABASE_URL": url,
        "SECRET_KEY": secret,
        # Background work inline, in the process that commits it (no Redis needed).
        "REDIS_URL": "",
        "STRIPE_API_KEY": "",
        "STRIPE_WEBHOOK_SECRET": "",
        "MAIL_SMTP_HOST": "127.0.0.1",
        "MAIL_SMTP_PORT": smtp_port,
        "MAIL_SMTP_STARTTLS": False,
        "TESTING": True,
    }


def make_app(config: dict):
    import logging

    from crowd import create_app

    app = create_app(config)
    for name in ("alembic", "notifications", "mentoring", "crowd"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return app


class Progress(threading.Thread):
    """Prints `label: done/total, rate, ETA` every few seconds from its own connection."""

    def __init__(
        self, url: str, label: str, query: str, total: int, every: float = 3.0, analyze=()
    ):
        super().__init__(daemon=True)
        self.url, self.label, self.query, self.total, self.every = url, label, query, total, every
        self.analyze, self.analyzed_at = analyze, 500
        self.stop = threading.Event()

    def run(self) -> None:
        started = time.perf_counter()
        with psycopg.connect(plain_url(self.url), autocommit=True) as conn:
            while not self.stop.wait(self.every):
                done = conn.execute(self.query).fetchone()[0]
                elapsed = time.perf_counter() - started
                rate = done / elapsed if elapsed else 0
                eta = (self.total - done) / rate if rate else float("inf")
                print(
                    f"  {self.label}: {done:,}/{self.total:,} ({rate:,.0f}/s, ETA {eta:.0f} s)",
                    flush=True,
                )
                if self.analyze and done >= 2 * self.analyzed_at:
                    # What autovacuum does to a growing table, sooner: a fresh database's
                    # tables start empty, and plans made for empty tables scan them whole.
                    conn.execute(f"ANALYZE {', '.join(self.analyze)}")
                    self.analyzed_at = done


# --- phases ---------------------------------------------------------------------------------


def seed(app, url: str, members: int) -> tuple[int, float]:
    """N active level-1 members with users (COPY in batches) and one community manager."""
    from crowd.extensions import db

    started = time.perf_counter()
    now = datetime.now(UTC)
    with app.app_context():
        raw = db.engine.raw_connection()
        conn = raw.driver_connection
        cm_id = members + 1
        for first in range(1, members + 2, SEED_BATCH):
            last = min(members + 2, first + SEED_BATCH)
            with conn.cursor() as cursor:
                with cursor.copy(
                    "COPY users (id, email, password_hash, role, display_name, created_at, "
                    "updated_at) FROM STDIN"
                ) as copy:
                    for n in range(first, last):
                        role = "community_manager" if n == cm_id else "member"
                        copy.write_row((n, f"u{n}@bench.test", "x", role, f"Bench {n}", now, now))
                with cursor.copy(
                    "COPY members (id, user_id, kind, display_name, postcode, city, country, "
                    "service_radius_km, max_concurrent_jobs, status, status_changed_at, "
                    "level_rank, created_at, updated_at) FROM STDIN"
                ) as copy:
                    for n in range(first, min(last, members + 1)):
                        copy.write_row(
                            (n, n, "private", f"Bench {n}", "10117", "Berlin", "DE", 25, 2,
                             "active", now, 1, now, now)
                        )  # fmt: skip
            conn.commit()
            done = min(last - 1, members)
            elapsed = time.perf_counter() - started
            eta = elapsed / done * (members - done) if done else 0
            print(f"  seeded {done:,}/{members:,} members ({elapsed:.1f} s, ETA {eta:.0f} s)")
        with conn.cursor() as cursor:
            for table in ("users", "members"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        conn.commit()
        raw.close()
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return cm_id, time.perf_counter() - started


def queue_broadcast(app, url: str, cm_id: int, members: int) -> tuple[int, float, dict]:
    """Send an announcement to every member; time until every batch has queued its deliveries."""
    from crowd.core import db as core_db
    from crowd.core.db import commit
    from crowd.extensions import db
    from mentoring.broadcasts import service
    from mentoring.models import Broadcast
    from notifications.delivery import _start_sender

    with app.app_context():
        broadcast = Broadcast(
            kind="announcement",
            title="Spring update",
            body="New skills to learn this spring.\n\nSee the app for details.",
            segment={"levels": [1], "statuses": ["active"]},
            status="draft",
            created_by_id=cm_id,
        )
        db.session.add(broadcast)
        db.session.commit()
        broadcast_id = broadcast.id
        progress = Progress(
            url,
            "queued deliveries (email, push)",
            "SELECT count(*) FROM deliveries",
            2 * members,
            every=1.0,
            analyze=("notifications", "deliveries", "broadcast_recipients"),
        )
        # This phase times the queueing: the sender's hand-over waits for phase 3.
        core_db._AFTER_COMMIT.remove(_start_sender)
        progress.start()
        started = time.perf_counter()
        try:
            service.send_broadcast(actor=None, broadcast_id=broadcast_id)
            commit()  # runs the broadcast's tasks inline: recipients, then every batch
        finally:
            elapsed = time.perf_counter() - started
            progress.stop.set()
            core_db._AFTER_COMMIT.append(_start_sender)
        broadcast = db.session.get(Broadcast, broadcast_id)
        counts = service.broadcast_view(broadcast)["counts"]
        status = broadcast.status
    return broadcast_id, elapsed, {**counts, "status": status}


def sender_worker(config: dict, max_seconds: float, ready, go, results) -> None:
    """One worker process: run the pipeline's sender, one batch a run, until nothing is due
    (started when every worker is up: the processes' start-up is not timed)."""
    from crowd.core.background import run_periodic
    from crowd.core.db import utcnow
    from crowd.extensions import db
    from notifications import delivery

    delivery.RUN_BUDGET_SECONDS = 0  # one batch per run: a timing per batch
    delivery.BATCH = config["DELIVERY_BATCH"]  # a spawned process starts from the defaults
    app = make_app(config)
    timings = []
    ready.release()
    go.wait()
    deadline = time.time() + max_seconds
    with app.app_context():
        while time.time() < deadline:
            t0 = time.perf_counter()
            sent = run_periodic(delivery.SEND_TASK)
            timings.append((time.perf_counter() - t0, sent))
            if sent == 0:
                due = db.session.scalar(
                    db.select(db.func.count())
                    .select_from(delivery.Delivery)
                    .where(
                        delivery.Delivery.status.in_(("queued", "sending")),
                        delivery.Delivery.next_attempt_at <= utcnow(),
                    )
                )
                db.session.rollback()
                if not due:
                    break
    results.put(timings)


def deliver(config: dict, url: str, workers: int, max_seconds: float, emails: int):
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        conn.execute("ANALYZE notifications, deliveries")  # as autovacuum would by now
    context = multiprocessing.get_context("spawn")
    results, ready, go = context.Queue(), context.Semaphore(0), context.Event()
    processes = [
        context.Process(target=sender_worker, args=(config, max_seconds, ready, go, results))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.acquire()
    progress = Progress(
        url,
        "emails sent",
        "SELECT count(*) FROM deliveries WHERE channel = 'email' AND status = 'sent'",
        emails,
        every=5.0,
    )
    started = time.perf_counter()
    go.set()
    progress.start()
    timings = [results.get() for _ in processes]
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    progress.stop.set()
    return elapsed, [t for worker in timings for t in worker]


def floor(port: int, count: int) -> float:
    """Plain smtplib, one connection, `count` messages of the pipeline's size."""
    message = EmailMessage()
    message["From"] = "Crowd News <news@crowd.example>"
    message["To"] = "u1@bench.test"
    message["Subject"] = "Spring update"
    message.set_content("New skills to learn this spring.\n\nSee the app for details.\n" * 3)
    message.add_alternative("<p>New skills to learn this spring.</p>" * 6, subtype="html")
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for _ in range(count):
            smtp.send_message(message)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=4, help="sender processes")
    parser.add_argument("--batch", type=int, default=200, help="deliveries per sender run")
    parser.add_argument("--max-seconds", type=float, default=900, help="bound on delivery")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--smoke", action="store_true", help="200 members, 2 workers")
    args = parser.parse_args()
    if args.smoke:
        args.members, args.workers, args.max_seconds, args.batch = 200, 2, 60, 50
    if not 1 <= args.members <= 1_000_000:
        parser.error("--members must be between 1 and 1,000,000")
    server = os.environ.get("DATABASE_URL", DEFAULT_SERVER)
    url = make_url(server).set(database=f"crowd_bench_broadcast_{os.getpid()}")
    url = url.render_as_string(hide_password=False)
    begun = time.perf_counter()
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    create_database(url)
    try:
        return run(args, url, port, sink, begun)
    finally:
        controller.stop()
        if not args.keep:
            drop_database(url)


def run(args, url: str, port: int, sink: Sink, begun: float) -> int:
    from flask_migrate import upgrade

    from crowd.extensions import db
    from notifications import delivery

    delivery.BATCH = args.batch
    config = app_config(url, port, secrets.token_urlsafe(32))
    app = make_app(config)
    with app.app_context():
        upgrade()
    members = args.members
    print(f"database {make_url(url).database}, SMTP sink on 127.0.0.1:{port}", flush=True)

    cm_id, seed_s = seed(app, url, members)
    print(f"seeded {members:,} members in {seed_s:.1f} s", flush=True)

    broadcast_id, queue_s, reach = queue_broadcast(app, url, cm_id, members)
    with app.app_context():
        queued = db.session.execute(
            db.select(delivery.Delivery.channel, db.func.count()).group_by(
                delivery.Delivery.channel
            )
        ).all()
    queued = dict(queued)
    rows = reach["delivered"] + sum(queued.values())
    print(
        f"queued broadcast {broadcast_id} ({reach['status']}): {reach['delivered']:,} inbox "
        f"entries, {queued.get('email', 0):,} email + {queued.get('push', 0):,} push deliveries "
        f"in {queue_s:.1f} s ({rows / queue_s:,.0f} rows/s)",
        flush=True,
    )
    emails = queued.get("email", 0)

    deliver_s, timings = deliver(
        {**config, "DELIVERY_BATCH": args.batch}, url, args.workers, args.max_seconds, emails
    )
    with app.app_context():
        states = dict(
            db.session.execute(
                db.select(delivery.Delivery.status, db.func.count())
                .where(delivery.Delivery.channel == "email")
                .group_by(delivery.Delivery.status)
            ).all()
        )
    sent = states.get("sent", 0)
    rate = sent / deliver_s if deliver_s else 0
    batches = [seconds for seconds, count in timings if count]
    floor_s = floor(port, sent or 1)
    floor_rate = (sent or 1) / floor_s
    delivered_by_sink = sink.count

    print()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (1, 5, 15 min)")
    ok_queue = queue_s <= QUEUE_TARGET_SECONDS
    print(
        f"queueing a broadcast to {members:,} members: {queue_s:.1f} s "
        f"(target ≤ {QUEUE_TARGET_SECONDS:.0f} s: {'met' if ok_queue else 'MISSED'})"
    )
    print(
        f"delivery with {args.workers} sender processes, {args.batch} deliveries a run: "
        f"{sent:,} emails in {deliver_s:.1f} s = {rate:,.0f} emails/s "
        f"(push deliveries of the same runs included in the time)"
    )
    if args.smoke:
        print("runs (seconds, emails sent):", [(round(t, 2), n) for t, n in timings])
    if batches:
        print(
            f"per run (batch): median {statistics.median(batches) * 1000:.0f} ms, "
            f"p95 {percentile(batches, 95) * 1000:.0f} ms over {len(batches)} runs"
        )
    print(
        f"floor, plain smtplib, one connection, one process: {sent:,} messages in {floor_s:.1f} s "
        f"= {floor_rate:,.0f} msgs/s; pipeline / floor = {rate / floor_rate:.2f}"
    )
    complete = sent == emails
    exact = delivered_by_sink == sent + (sent or 1) and sum(states.values()) == emails
    print(
        f"email states {dict(sorted(states.items()))}; the sink received {delivered_by_sink:,} "
        f"(pipeline + floor): {'each sent email once' if exact else 'MISMATCH'}"
        f"{'' if complete else ' (bounded by --max-seconds: not all sent)'}. "
        f"Run time {time.perf_counter() - begun:.0f} s."
    )
    return 0 if exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
