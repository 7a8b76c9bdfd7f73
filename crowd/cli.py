"""`flask crowd …`: the group, and the core's commands (background worker, scheduler, events,
settings: every setting in force with secrets masked, or with --markdown the README's table).

Domains add their own commands to `crowd_cli` in their `cli` module (accounts: create-admin,
members: load-catalogue, demo: seed-demo), which the app factory loads by name."""

from __future__ import annotations

import multiprocessing
import time

import click
from flask import current_app
from flask.cli import AppGroup
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.cron import CronScheduler
from sqlalchemy.exc import SQLAlchemyError

from crowd.core import settings as settings_service
from crowd.core.background import redis_connection, run_due_periodic, run_periodic
from crowd.core.events import wiring
from crowd.extensions import db
from crowd.schedule import PERIODIC

crowd_cli = AppGroup("crowd", help="Crowd operations.")


def _run_cron(redis_url: str, queue_name: str) -> None:

    scheduler = CronScheduler(connection=Redis.from_url(redis_url))
    for periodic in PERIODIC:
        scheduler.register(
            run_periodic,
            queue_name,
            kwargs={"task_name": periodic.task},
            interval=periodic.every_seconds,
            name=periodic.name,
        )
    scheduler.start()


def _in_process_worker_class():
    """RQ's SimpleWorker (no fork per job), each job in a fresh app context."""

    class InProcessWorker(SimpleWorker):
        """Runs each job in the worker's own process, in an app context (and so a database
        session) of its own."""

        app = None

        def execute_job(self, job, queue):
            with self.app.app_context():
                super().execute_job(job, queue)

    return InProcessWorker


@crowd_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option(
    "--no-cron", is_flag=True, help="Don't run periodic jobs here (run them in one worker only)."
)
@click.option(
    "--fork",
    is_flag=True,
    help="Run each job in a forked work horse: isolated, at several times the CPU per job.",
)
def worker(burst: bool, no_cron: bool, fork: bool) -> None:
    """Run an RQ worker with scheduler (and the periodic jobs) inside an app context.

    Jobs run in the worker's process by default: ours are short database tasks, and forking a
    work horse per job (RQ's default) costs several times their own CPU (bench/load.py). A job
    killed with its worker is not lost: the outbox relay hands it over again.
    """

    settings = current_app.config["CROWD_SETTINGS"]
    if settings.inline_background:
        raise click.ClickException(
            "REDIS_URL is not set: background work runs inline, no worker needed"
        )
    # Forked processes (work horses, the scheduler) must not share our database connections.
    db.engine.dispose()
    cron = None
    if not burst and not no_cron:
        cron = multiprocessing.get_context("spawn").Process(
            target=_run_cron, args=(settings.redis_url, settings.rq_queue), daemon=True
        )
        cron.start()
    connection = redis_connection()
    queues = [Queue(settings.rq_queue, connection=connection)]
    if fork:
        runner = Worker(queues, connection=connection)
    else:
        runner = _in_process_worker_class()(queues, connection=connection)
        runner.app = current_app._get_current_object()
    try:
        runner.work(with_scheduler=True, burst=burst)
    finally:
        if cron is not None:
            cron.terminate()


@crowd_cli.command("tick")
@click.option("--loop", is_flag=True, help="Keep running the due periodic jobs every few seconds.")
def tick(loop: bool) -> None:
    """Run due periodic jobs without Redis (the embedded default's scheduler)."""

    state: dict = {}
    while True:
        ran = run_due_periodic(state)
        if ran:
            click.echo("ran " + ", ".join(ran))
        if not loop:
            return
        time.sleep(5)


@crowd_cli.command("events")
def events() -> None:
    """Print every domain event with its subscribers, in the order they run."""

    for name, subscribers in wiring().items():
        click.echo(name)
        for subscriber in subscribers:
            click.echo(f"    {subscriber}")


@crowd_cli.command("settings")
@click.option(
    "--markdown", is_flag=True, help="Print the README's table of every setting and its default."
)
def settings(markdown: bool) -> None:
    """Print every setting with its value in force and its source (default, environment or
    admin), secrets masked."""

    if markdown:
        click.echo(settings_service.markdown_table(settings_service.registry().groups), nl=False)
        return
    try:
        rows = settings_service.effective()
    except SQLAlchemyError:
        # No database yet (or no migrations): what start-up read is still worth showing.
        db.session.rollback()
        click.echo("(the admins' changes could not be read: is the database migrated?)", err=True)
        rows = settings_service.effective(with_overrides=False)
    width = max(len(name) for name, _, _ in rows)
    for name, value, source in rows:
        click.echo(f"{name.ljust(width)}  {value}  [{source}]")
