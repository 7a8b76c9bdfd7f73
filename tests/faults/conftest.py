"""Fixtures for the fault tests: a private Redis server to stop and start, real RQ worker
subprocesses to kill, and a plain connection to the test database for looking from outside.

Every fault test runs on PostgreSQL (the workers are other processes, so the data must really
be committed: the tests are `committing`); the Redis is this test's own redis-server, so the
test Redis of the suite is never stopped. Without PostgreSQL or the redis-server binary the
tests skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from redis import Redis
from sqlalchemy import make_url

from tests.faults import tasks  # noqa: F401  (the tests' own tasks, known here and in workers)

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "crowd-faults"


def wait_for(condition, *, timeout: float = 20.0, interval: float = 0.05, what: str = "it"):
    """Poll `condition()` until it returns something truthy (returned) or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server of our own on a free loopback port, without persistence: stopped and
    started again it comes back empty, as a crashed cache does."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> Redis:
        return Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)

    def start(self) -> RedisServer:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115  (closed with the process)
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for(self._answers, timeout=10, what="redis-server to answer")
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process = None
        assert not self._answers(), "redis-server still answers after stopping"

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except Exception:
            return False


@pytest.fixture
def needs_services(on_postgres):
    """Skip unless the suite runs on PostgreSQL and redis-server is installed."""
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server binary")
    return True


@pytest.fixture
def redis_server(needs_services, tmp_path):
    """A private Redis server, running; stopped at the end whatever the test did to it."""
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def background_on(app, redis_server, monkeypatch):
    """This process hands background work to the private Redis (queue QUEUE), as the workers do."""
    settings = app.config["CROWD_SETTINGS"].model_copy(
        update=dict(redis_url=redis_server.url, rq_queue=QUEUE)
    )
    monkeypatch.setitem(app.config, "CROWD_SETTINGS", settings)
    return redis_server


class Workers:
    """`flask crowd worker` subprocesses on the test database and the private Redis."""

    def __init__(self, app, redis_server: RedisServer, logdir: Path) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": app.config["CROWD_SETTINGS"].database_url,
            "REDIS_URL": redis_server.url,
            "RQ_QUEUE": QUEUE,
            "STRIPE_API_KEY": "",
            "STRIPE_WEBHOOK_SECRET": "",
            "PYTHONPATH": str(ROOT),
        }
        self.logdir = logdir
        self.started: list[subprocess.Popen] = []

    def start(self, *options: str) -> subprocess.Popen:
        """Start a worker (without the periodic jobs: the tests run the relay themselves)."""
        command = [sys.executable, "-m", "flask", "--app", "tests.faults.worker_app"]
        command += ["crowd", "worker", "--no-cron", *options]
        log = open(self.logdir / f"worker-{len(self.started)}.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.started.append(process)
        return process

    def burst(self, timeout: float = 60) -> None:
        """Run a worker until the queue is empty."""
        process = self.start("--burst")
        assert process.wait(timeout=timeout) == 0, self.logs()

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.logdir.glob("worker-*.log"))
        )

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture
def workers(app, redis_server, tmp_path):
    started = Workers(app, redis_server, tmp_path)
    yield started
    started.stop_all()


@pytest.fixture
def outside(app, on_postgres):
    """A plain autocommit connection to the test database, outside the app's pool."""
    url = make_url(app.config["CROWD_SETTINGS"].database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        yield conn


# --- Stripe: the local fake of its API and signed webhook deliveries (tests/stripe_fake.py) ---
from tests.stripe_fake import (  # noqa: E402, F401
    stripe_fake,
    stripe_fake_server,
    stripe_settings,
)
