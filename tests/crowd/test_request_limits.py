"""Request size limits: the app's (problem+json) sit below gunicorn's, and gunicorn uses ours.

In-process the app's own limits answer 414 and 431; one test starts a real gunicorn with
gunicorn.conf.py on a free loopback port and sends requests between the two limits, which must
reach the app and get problem+json, and one beyond gunicorn's, which gunicorn refuses itself.
"""

from __future__ import annotations

import http.client
import os
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crowd.core.security import MAX_HEADER_FIELD_BYTES, MAX_HEADER_FIELDS, MAX_URL_BYTES
from tests.conftest import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"
GUNICORN = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
# What a request line carries besides the URL: "GET " and " HTTP/1.1".
REQUEST_LINE_OVERHEAD = len("GET  HTTP/1.1")


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    return response.get_json()


# --- the app's limits, in-process ---------------------------------------------------------


def test_the_apps_limits_sit_below_gunicorns():
    assert GUNICORN["limit_request_line"] > MAX_URL_BYTES + REQUEST_LINE_OVERHEAD
    assert GUNICORN["limit_request_fields"] > MAX_HEADER_FIELDS
    assert GUNICORN["limit_request_field_size"] > MAX_HEADER_FIELD_BYTES


def test_a_header_field_over_the_limit_is_431_before_authentication(client):
    value = "x" * (MAX_HEADER_FIELD_BYTES - len("X-Note"))
    assert client.get("/healthz", headers={"X-Note": value}).status_code == 200
    response = client.get("/api/v1/me", headers={"X-Note": value + "x"})
    body = _problem(response, 431)
    assert str(MAX_HEADER_FIELD_BYTES) in body["detail"]


def test_too_many_header_fields_is_431(client):
    # The test client adds Host (and User-Agent); the count is of what the app receives.
    base = len(client.get("/healthz").request.headers)
    fits = {f"X-Field-{n}": "1" for n in range(MAX_HEADER_FIELDS - base)}
    assert client.get("/healthz", headers=fits).status_code == 200
    response = client.get("/healthz", headers={**fits, "X-One-Too-Many": "1"})
    assert str(MAX_HEADER_FIELDS) in _problem(response, 431)["detail"]


# --- a real gunicorn with gunicorn.conf.py ------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(database_url, tmp_path):
    """gunicorn serving wsgi:app with the production config on 127.0.0.1:<free port>."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": TEST_REDIS_URL}
    command = [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py"]
    command += ["-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"]
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115  (closed below)
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "gunicorn.log").read_text()) from None
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _send(port: int, url: str, headers: dict[str, str] | None = None):
    """(status, content type, body) of GET `url` sent as is."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest("GET", url, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def test_gunicorn_lets_the_app_answer_between_the_limits_and_refuses_beyond(gunicorn):
    assert _send(gunicorn, "/healthz")[0] == 200
    # Between the app's limit and gunicorn's: the app answers, as problem+json.
    long_url = "/api/v1/members?q=" + "a" * MAX_URL_BYTES
    assert len(long_url) + REQUEST_LINE_OVERHEAD < GUNICORN["limit_request_line"]
    status, kind, _ = _send(gunicorn, long_url)
    assert (status, kind) == (414, PROBLEM)
    status, kind, _ = _send(gunicorn, "/healthz", {"X-Note": "x" * (MAX_HEADER_FIELD_BYTES + 1)})
    assert (status, kind) == (431, PROBLEM)
    many = {f"X-Field-{n}": "1" for n in range(MAX_HEADER_FIELDS + 1)}
    status, kind, _ = _send(gunicorn, "/healthz", many)
    assert (status, kind) == (431, PROBLEM)
    # Beyond gunicorn's limits gunicorn refuses it itself, with its own page (documented).
    status, kind, _ = _send(gunicorn, "/healthz?q=" + "a" * GUNICORN["limit_request_line"])
    assert status == 414 and kind != PROBLEM
    huge = {"X-Note": "x" * GUNICORN["limit_request_field_size"]}
    status, kind, _ = _send(gunicorn, "/healthz", huge)
    assert status == 431 and kind != PROBLEM
