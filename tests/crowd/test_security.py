"""Security basics at the HTTP edge: headers, CORS, request limits, request ids, error bodies
without internals, secrets only from the environment, constant-time comparisons."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import pathlib
import re

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DataError, OperationalError

from crowd.core.openapi import CrowdBlueprint
from crowd.core.security import MAX_JSON_DEPTH, MAX_URL_BYTES
from crowd.extensions import db, limiter
from tests.conftest import TEST_REDIS_URL

PROBLEM = "application/problem+json"
ROOT = pathlib.Path(__file__).resolve().parents[2]


def _assert_problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    assert response.json["status"] == status
    return response.json


# --- security headers ---------------------------------------------------------------------


def test_api_responses_carry_the_security_headers(client, customer):
    response = client.get("/api/v1/me", headers=customer.headers)
    assert response.status_code == 200
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    # Plain http (the test client's default): no HSTS, which browsers would ignore anyway.
    assert "Strict-Transport-Security" not in headers


def test_error_responses_carry_them_too(client):
    response = client.get("/api/v1/me")
    _assert_problem(response, 401)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_hsts_over_https(client):
    response = client.get("/healthz", base_url="https://api.crowd.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_forwarded_proto_is_ignored_without_trusted_proxies(client):
    response = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_behind_a_trusted_proxy(edge_app):
    client = edge_app.test_client()
    behind = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert behind.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


def test_docs_page_csp_allows_its_own_scripts_and_nothing_else(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    csp = dict(
        part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";")
    )
    assert csp["default-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["connect-src"] == "'self'"  # the spec and "try it out" calls
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    # The inline start-up script runs because its hash is listed; the bundles come from 'self'.
    inline = re.findall(rb"<script>(.*?)</script>", page.data, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0]).digest()).decode()
    assert f"'sha256-{digest}'" in csp["script-src"]
    sources = re.findall(rb'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page.data)
    assert sources and all(s.startswith(b"/api/v1/docs/assets/") for s in sources)
    # No call to the public spec validator: the page works offline.
    assert b'"validatorUrl": null' in page.data


def test_docs_assets_are_served_with_their_types_under_nosniff(client):
    script = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert script.mimetype in ("text/javascript", "application/javascript")
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    style = client.get("/api/v1/docs/assets/swagger-ui.css")
    assert style.mimetype == "text/css"


# --- request ids --------------------------------------------------------------------------


def test_a_request_id_is_generated_and_echoed(client):
    first = client.get("/healthz").headers["X-Request-Id"]
    second = client.get("/healthz").headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second


def test_a_sane_incoming_request_id_is_kept(client):
    response = client.get("/healthz", headers={"X-Request-Id": "gw-2030.01:abc_DEF-1"})
    assert response.headers["X-Request-Id"] == "gw-2030.01:abc_DEF-1"


@pytest.mark.parametrize("incoming", ["x" * 65, "has space", "evil\u00e9", "a;b", ""])
def test_an_odd_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/healthz", headers={"X-Request-Id": incoming})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])


# --- no internals in error bodies ---------------------------------------------------------

SQL_WORDS = ("SELECT", "INSERT", "FROM", "users", "no_such_table", "constraint", "CAST")


@pytest.fixture(scope="module")
def edge_app(app):
    """A second app on the test database: behind one trusted proxy, with views that fail."""
    from crowd import create_app

    blp = CrowdBlueprint("boom", __name__)

    @blp.route("/boom/unexpected", methods=["POST"])
    def unexpected():
        raise RuntimeError("secret SELECT password_hash FROM users")

    @blp.route("/boom/integrity", methods=["POST"])
    def integrity():
        db.session.execute(text("INSERT INTO users (email) VALUES (NULL)"))
        return {}

    @blp.route("/boom/missing-table", methods=["POST"])
    def missing_table():
        db.session.execute(text("SELECT secret FROM no_such_table"))
        return {}

    @blp.route("/boom/data", methods=["POST"])
    def data():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SELECT CAST('users' AS integer)"))
        # SQLite casts anything; the driver's own refusal looks like this.
        raise DataError("SELECT CAST(? AS integer) FROM users", ("x",), ValueError("bad int"))

    @blp.route("/boom/unavailable", methods=["POST"])
    def unavailable():
        raise OperationalError(
            "SELECT * FROM users", {}, Exception("connection to 10.0.0.5 refused")
        )

    edge = create_app(
        {
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": TEST_REDIS_URL,
            "TRUSTED_PROXIES": "1",
            "RATE_LIMIT_KEY_PREFIX": app.config["CROWD_SETTINGS"].rate_limit_key_prefix,
        }
    )
    edge.register_blueprint(blp)
    limiter.init_app(app)  # the shared limiter counts for the session app again
    return edge


@pytest.fixture
def error_log(caplog, monkeypatch):
    """What crowd.core.errors logs (Alembic's logging config disabled it when the tests'
    schema was migrated in this process)."""
    monkeypatch.setattr(logging.getLogger("crowd.core.errors"), "disabled", False)
    caplog.set_level(logging.INFO, logger="crowd.core.errors")
    return caplog


def test_unexpected_error_is_a_generic_500_with_the_request_id(edge_app, error_log):
    caplog = error_log
    response = edge_app.test_client().post("/boom/unexpected", headers={"Accept-Language": "en"})
    body = _assert_problem(response, 500)
    assert body["detail"] == "Something went wrong on our side."
    assert body["request_id"] == response.headers["X-Request-Id"]
    raw = response.get_data(as_text=True)
    for leak in ("secret", "SELECT", "password_hash", "Traceback", "RuntimeError", "boom.py"):
        assert leak not in raw
    # The logs keep what the caller does not see, under the same id.
    record = next(r for r in caplog.records if r.exc_info)
    assert record.request_id == body["request_id"]
    assert body["request_id"] in record.getMessage()
    assert "password_hash" in str(record.exc_info[1])


def test_a_request_id_sent_by_the_caller_names_the_500(edge_app):
    response = edge_app.test_client().post("/boom/unexpected", headers={"X-Request-Id": "rq-42"})
    assert _assert_problem(response, 500)["request_id"] == "rq-42"


@pytest.mark.parametrize(
    ("path", "statuses"),
    [
        ("/boom/integrity", {409}),
        ("/boom/missing-table", {500, 503}),
        ("/boom/data", {422}),
        ("/boom/unavailable", {503}),
    ],
)
def test_database_errors_show_no_sql(edge_app, error_log, path, statuses):
    response = edge_app.test_client().post(path)
    assert response.status_code in statuses
    body = _assert_problem(response, response.status_code)
    raw = response.get_data(as_text=True)
    for word in SQL_WORDS:
        assert word not in raw, f"{word!r} leaked in {raw}"
    assert "10.0.0.5" not in raw
    if response.status_code >= 500:
        assert body["request_id"] == response.headers["X-Request-Id"]
    # The logs keep the database's own words.
    assert any(r.name == "crowd.core.errors" for r in error_log.records), "nothing logged"


# --- request limits -----------------------------------------------------------------------


@pytest.fixture
def small_bodies(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)


def test_a_body_over_the_limit_is_413_before_anything_else(client, small_bodies):
    big = json.dumps({"email": "a@example.test", "password": "x" * 5000})
    response = client.post("/api/v1/accounts/customers", data=big, content_type="application/json")
    _assert_problem(response, 413)
    # Even where no body is read and no token was sent: refused before authentication.
    response = client.post("/api/v1/offers/1/accept", data="x" * 5000, content_type="text/plain")
    _assert_problem(response, 413)


def test_a_body_within_the_limit_passes(client, small_bodies):
    body = {"email": "a@example.test", "password": "a long secret 42", "display_name": "A"}
    assert client.post("/api/v1/accounts/customers", json=body).status_code == 202


def test_the_default_limit_is_one_mebibyte(app, client):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    response = client.post(
        "/api/v1/accounts/customers", data="x" * (1024 * 1024 + 1), content_type="application/json"
    )
    _assert_problem(response, 413)


def test_an_overlong_url_is_414(client, cm):
    query = "q=" + "a" * MAX_URL_BYTES
    response = client.get(f"/api/v1/members?{query}", headers=cm.headers)
    _assert_problem(response, 414)
    assert client.get("/api/v1/" + "x" * MAX_URL_BYTES).status_code == 414


def test_deeply_nested_json_is_400(client):
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    response = client.post("/api/v1/accounts/customers", data=deep, content_type="application/json")
    body = _assert_problem(response, 400)
    assert "nests deeper" in body["detail"]
    # Far deeper than Python's parser could take: still a clean 400, not a 500.
    abyss = "[" * 200_000 + "]" * 200_000
    response = client.post(
        "/api/v1/accounts/customers", data=abyss, content_type="application/json"
    )
    _assert_problem(response, 400)


def test_brackets_inside_strings_do_not_count_as_nesting(client):
    password = "[{ horse " * 8 + "x"  # strong enough for zxcvbn, and full of brackets
    body = {"email": "a@example.test", "password": password, "display_name": "[[[[" * 20}
    assert client.post("/api/v1/accounts/customers", json=body).status_code == 202


def test_moderate_nesting_reaches_validation(client):
    nested: dict = {"x": 1}
    for _ in range(MAX_JSON_DEPTH - 2):
        nested = {"x": nested}
    response = client.post("/api/v1/accounts/customers", json=nested)
    _assert_problem(response, 422)


# --- CORS ---------------------------------------------------------------------------------

APP_ORIGIN = "https://app.crowd.example"


def _cors_headers(response) -> list[str]:
    return [name for name, _ in response.headers if name.startswith("Access-Control-")]


@pytest.fixture
def cors(app, monkeypatch):
    settings = app.config["CROWD_SETTINGS"].model_copy(
        update=dict(cors_origins=(APP_ORIGIN, "http://localhost:5173"))
    )
    monkeypatch.setitem(app.config, "CROWD_SETTINGS", settings)


def test_allowed_origin_is_echoed_with_vary(client, customer, cors):
    response = client.get("/api/v1/me", headers={**customer.headers, "Origin": APP_ORIGIN})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "Origin" in response.headers["Vary"]
    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"Retry-After", "X-RateLimit-Remaining", "Location", "X-Request-Id"} <= exposed
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_errors_are_readable_cross_origin(client, cors):
    response = client.get("/api/v1/me", headers={"Origin": "http://localhost:5173"})
    _assert_problem(response, 401)
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"


def test_preflight_for_an_allowed_origin_is_204(client, cors):
    response = client.options(
        "/api/v1/jobs",
        headers={
            "Origin": APP_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= methods
    allowed = {h.strip() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {
        "Authorization",
        "Content-Type",
        "Idempotency-Key",
        "X-API-Key",
        "X-Device-Id",
    } <= allowed
    assert int(response.headers["Access-Control-Max-Age"]) > 0


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "https://app.crowd.example.evil.example", "null"]
)
def test_other_origins_get_no_cors_headers(client, customer, cors, origin):
    response = client.get("/api/v1/me", headers={**customer.headers, "Origin": origin})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options(
        "/api/v1/jobs", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code != 204
    assert not _cors_headers(preflight)


def test_without_cors_origins_there_are_no_cors_headers(client, customer):
    response = client.get("/api/v1/me", headers={**customer.headers, "Origin": APP_ORIGIN})
    assert not _cors_headers(response)
    preflight = client.options(
        "/api/v1/jobs", headers={"Origin": APP_ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert not _cors_headers(preflight)


def test_rate_limited_answers_are_readable_cross_origin(client, customer, cors, monkeypatch, app):
    settings = app.config["CROWD_SETTINGS"].model_copy(
        update=dict(rate_limit_sign_in="1 per minute")
    )
    monkeypatch.setitem(app.config, "CROWD_SETTINGS", settings)
    limiter.init_app(app)
    limiter.reset()
    body = {"email": customer.email, "password": "wrong password"}
    client.post("/api/v1/auth/tokens", json=body, headers={"Origin": APP_ORIGIN})
    blocked = client.post("/api/v1/auth/tokens", json=body, headers={"Origin": APP_ORIGIN})
    limiter.reset()
    assert blocked.status_code == 429
    assert blocked.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "Retry-After" in blocked.headers["Access-Control-Expose-Headers"]


# --- secrets and comparisons --------------------------------------------------------------

SCANNED = ("crowd", "jobs", "payouts", "onboarding", "mentoring", "support", "bench")
LIVE_SECRETS = re.compile(
    r"(sk|rk)_live_[A-Za-z0-9]{8,}"
    r"|(sk|rk)_test_[A-Za-z0-9]{20,}"
    r"|whsec_[A-Za-z0-9]{16,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|AKIA[0-9A-Z]{16}"
    r"|://[^/\s:@'\"]+:[^/\s@'\"]+@"  # credentials inside a URL
)
PASSWORD_IN_CODE = re.compile(
    r"\b(\w*(?:password|passwd|secret|api_key|token)\w*)['\"]?\s*[:=]\s*[rbf]?['\"]([^'\"]{6,})['\"]",
    re.IGNORECASE,
)
# Benchmarks build their own databases and users: passwords there are fixtures (keys are not).
FIXTURE_DIRS = ("bench/",)
# Public on purpose: documented in README (demo accounts) or refused outside embedded SQLite.
ALLOWED = {
    ("demo/named_accounts.py", "DEMO_PASSWORD"),
    ("crowd/config.py", "DEV_SECRET_KEY"),
}


def _source_files():
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and path.suffix in {".py", ".toml", ".ini", ".cfg", ".json", ".env"}:
                yield path


def test_no_live_secrets_or_passwords_in_the_source_tree():
    found = []
    for path in _source_files():
        relative = path.relative_to(ROOT).as_posix()
        content = path.read_text(errors="replace")
        found += [f"{relative}: {m.group(0)[:24]}…" for m in LIVE_SECRETS.finditer(content)]
        if relative.startswith(FIXTURE_DIRS):
            continue  # throwaway accounts on throwaway databases, like the tests' own
        for match in PASSWORD_IN_CODE.finditer(content):
            if (relative, match.group(1)) not in ALLOWED:
                found.append(f"{relative}: {match.group(1)} = …")
    assert not found, found


def test_the_scan_would_see_a_secret():
    assert LIVE_SECRETS.search('STRIPE = "sk_live_51Habcdefghijkl"')
    assert LIVE_SECRETS.search("postgresql://crowd:hunter22@db/crowd")
    assert PASSWORD_IN_CODE.search('admin_password = "hunter22"')
    assert PASSWORD_IN_CODE.search('{"api_key": "abcdef123"}')
    assert not LIVE_SECRETS.search('"whsec_testsecret123"')  # a short fixture value


def test_bearer_tokens_are_compared_in_constant_time(client, customer, monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert client.get("/api/v1/me", headers=customer.headers).status_code == 200
    digest = hashlib.sha256(customer.token.encode()).hexdigest()
    assert (digest, digest) in calls


def test_webhook_signatures_are_checked_by_the_sdk_in_constant_time(monkeypatch):
    from payouts import webhooks
    from tests.stripe_fake import WEBHOOK_SECRET, signature_header, stripe_event

    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    payload = json.dumps(stripe_event("payout.paid", {"id": "po_1", "object": "payout"}))
    event = webhooks.verify_event(payload.encode(), signature_header(payload), WEBHOOK_SECRET)
    assert event["type"] == "payout.paid"
    assert calls, "the signature was not compared with hmac.compare_digest"
