"""Authorization matrix: every operation × seven parties × ownership, through the HTTP API.

The parties are anonymous, customer A and B, member A and B, a community manager and an admin
(world.py). For each operation of the spec (authz_table.py says what it acts on and who owns
that): anonymous → 401 unless public; a role outside `x-roles` → 403; the owners and, where
allowed, staff get through (neither 401, 403 nor 404, nor a server error); every other allowed
party gets 404 — never a 2xx. Writes are also checked for the fields a client must not set.

The world is built once for the module in one outer transaction; each call runs in a savepoint
that is rolled back after it, so every party meets the same untouched world.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from crowd.extensions import db
from tests.api.authz_table import (
    API_KEY_ACCESS,
    OPERATIONS,
    PATH_KEYS,
    PROTECTED_ALLOWED,
    PROTECTED_NAMES,
    Access,
    is_protected,
    table,
)
from tests.api.spec import tally
from tests.api.world import PARTIES, ROLE_OF, World, build_world
from tests.conftest import TEST_REDIS_URL, _empty_queue, _TestSession

STAFF = ("community_manager", "admin")
TABLE = table()


# --- the world, once per module ---------------------------------------------------------------


def _bind(connection):
    return db._make_scoped_session(
        {"bind": connection, "class_": _TestSession, "join_transaction_mode": "create_savepoint"}
    )


@pytest.fixture(scope="module")
def matrix(app):
    """(connection, world): the world written in a transaction that is rolled back at the end."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = _bind(connection)
        try:
            world = build_world(app, app.test_client())
            db.session.remove()
            yield connection, world
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()
    if TEST_REDIS_URL:
        _empty_queue(app)


@pytest.fixture(autouse=True)
def db_session(app, matrix, monkeypatch):
    """Replaces the suite's per-test transaction: the tests here share the module's world."""
    settings = app.config["CROWD_SETTINGS"]
    # With a webhook secret configured, an unsigned delivery is refused (400), not unavailable.
    monkeypatch.setitem(
        app.config,
        "CROWD_SETTINGS",
        settings.model_copy(update=dict(stripe_webhook_secret="whsec_matrix")),
    )
    with app.app_context():
        yield db.session


@contextmanager
def isolated(connection):
    """Run one call in a savepoint and undo whatever it wrote."""
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        db.session.remove()
        if savepoint.is_active:
            savepoint.rollback()


# --- requests ---------------------------------------------------------------------------------


def _resolve(value, world: World):
    """Table values "@key" are world ids ("@email:party", "@user:party", "@profile:party")."""
    if isinstance(value, dict):
        return {k: _resolve(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, world) for v in value]
    if isinstance(value, str) and value.startswith("@"):
        kind, _, party = value[1:].partition(":")
        if not party:
            return world.ids[kind]
        actor = world.actors[party]
        return {"email": actor.email, "user": actor.user_id, "profile": actor.profile_id}[kind]
    return value


def _url(label: str, access: Access, world: World) -> tuple[str, str]:
    method, path = label.split(" ", 1)
    for name in _path_names(path):
        key = access.path.get(name) or PATH_KEYS[name]
        path = path.replace("{" + name + "}", str(world.ids[key]))
    return method, path


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def call(client, world: World, label: str, access: Access, party: str, body=None):
    method, url = _url(label, access, world)
    payload = _resolve(access.body if body is None else body, world)
    kwargs = {"headers": world.headers(party), "query_string": _resolve(access.query, world)}
    if payload is not None:
        kwargs["json"] = payload
    return client.open(url, method=method, **kwargs)


# --- what each party should get ---------------------------------------------------------------

THROUGH = "through"


def expectations(access: Access, roles: list[str] | None) -> dict[str, int | str]:
    """Party → the status it must get, or THROUGH."""
    expected: dict[str, int | str] = {}
    allowed = set(ROLE_OF.values()) if roles in (None, ["any"]) else set(roles)
    public = roles is None
    assert public == access.public, "the table and the spec disagree about a public operation"
    for party in PARTIES + tuple(o for o in access.owners if o not in PARTIES):
        if party == "anonymous":
            expected[party] = access.exact or (THROUGH if public else 401)
        elif ROLE_OF[party] not in allowed:
            expected[party] = 403
        elif access.exact:
            expected[party] = access.exact
        elif not access.owners or party in access.owners or (party in STAFF and access.staff):
            expected[party] = THROUGH
        else:
            expected[party] = access.refused.get(party, access.refusal)
    return expected


def _mismatch(access: Access, expected, response) -> str | None:
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if expected == THROUGH:
        refused = {401, 403} if access.missing_ok else {401, 403, 404}
        return f"refused with {status}" if status in refused else None
    if status != expected:
        return f"got {status}, expected {expected}"
    if response.mimetype != "application/problem+json":
        return f"{status} is not problem+json"
    return None


# --- the tests --------------------------------------------------------------------------------


def test_every_operation_has_an_entry(spec_operations):
    missing = sorted(set(spec_operations) - set(TABLE))
    stale = sorted(set(TABLE) - set(spec_operations))
    assert not missing, f"operations without an entry in authz_table.py: {missing}"
    assert not stale, f"entries for operations the spec does not have: {stale}"


@pytest.mark.parametrize("label", OPERATIONS)
def test_who_gets_through(label, app, matrix, spec_operations):
    connection, world = matrix
    assert label in spec_operations, f"{label} is not in the spec (stale entry?)"
    access = TABLE[label]
    operation = spec_operations[label]
    client = app.test_client()
    problems = []
    for party, expected in expectations(access, operation.get("x-roles")).items():
        with isolated(connection):
            response = call(client, world, label, access, party)
        tally.cells += 1
        tally.matrix_operations.add(label)
        problem = _mismatch(access, expected, response)
        if problem:
            detail = json.dumps(response.get_json(silent=True))[:300]
            problems.append(f"{party}: {problem} — {detail}")
    assert not problems, f"{label}\n  " + "\n  ".join(problems)


# --- API keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize("label", OPERATIONS)
def test_customer_api_key_gets_exactly_its_scopes(label, app, matrix, spec_operations):
    """Customer A's API key with every scope: on the operations of API_KEY_ACCESS, and on
    public ones, it gets what A's session gets, and a key lacking that one scope gets 403
    scope-missing naming it; everywhere else it is refused with 403 — session-required where
    the session gets through."""
    connection, world = matrix
    access, operation = TABLE[label], spec_operations[label]
    scope = API_KEY_ACCESS.get(label)
    assert operation.get("x-api-key-scope") == scope, "the docs and the table disagree"
    client = app.test_client()
    with isolated(connection):
        as_session = call(client, world, label, access, "customer")
    with isolated(connection):
        as_key = call(client, world, label, access, "customer_key")
    tally.cells += 2
    detail = json.dumps(as_key.get_json(silent=True))[:300]
    if scope or operation.get("x-roles") is None:
        assert as_key.status_code == as_session.status_code, (as_session.status_code, detail)
        assert as_key.status_code != 403, detail
    else:
        assert as_key.status_code == 403, detail
        assert as_key.mimetype == "application/problem+json"
        if as_session.status_code != 403:
            assert as_key.get_json()["type"].endswith("/session-required"), detail
    if scope:
        with isolated(connection):
            lacking = call(client, world, label, access, f"customer_key_without:{scope}")
        tally.cells += 1
        assert lacking.status_code == 403, lacking.get_json()
        assert lacking.get_json()["type"].endswith("/scope-missing")
        assert lacking.get_json()["scope"] == scope


# --- fields a client must not set -------------------------------------------------------------

WRITES = ("POST", "PUT", "PATCH")
# What a client might try to sneak in: every protected name, with a plausible value.
SNEAKED = {name: 1 for name in PROTECTED_NAMES} | {
    "status": "active",
    "state": "closed",
    "verified": True,
    "role": "admin",
    "level": "senior",
    "member_ids": [1],
}
# Written whatever the request: the staff audit log records refused calls too, and a token's
# first use in a while is noted on it when the caller is authenticated.
BOOKKEEPING = ("audit_log", "UPDATE auth_tokens SET last_used_at")


def _body_schema(operation: dict, spec: dict) -> dict | None:
    content = operation.get("requestBody", {}).get("content", {})
    return _deref(content.get("application/json", {}).get("schema"), spec)


def _deref(schema, spec: dict):
    while isinstance(schema, dict) and "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _fields(schema, spec: dict, prefix: str = "", seen: frozenset = frozenset()) -> set[str]:
    """Every property name of a request schema, nested ones dotted (items of arrays too)."""
    names = set()
    if not isinstance(schema, dict):
        return names
    if "$ref" in schema:
        ref = schema["$ref"]
        return set() if ref in seen else _fields(_deref(schema, spec), spec, prefix, seen | {ref})
    for name, sub in (schema.get("properties") or {}).items():
        names.add(prefix + name)
        names |= _fields(sub, spec, f"{prefix}{name}.", seen)
    if "items" in schema:
        names |= _fields(schema["items"], spec, prefix, seen)
    return names


def test_protected_fields_are_absent_or_allowed(spec_operations, api_spec):
    """A request schema takes a status, amount, level or owner id only where we said why."""
    unexplained, stale = [], []
    for label, operation in sorted(spec_operations.items()):
        fields = _fields(_body_schema(operation, api_spec), api_spec)
        allowed = PROTECTED_ALLOWED.get(label, {})
        for name in sorted(fields):
            if is_protected(name.rsplit(".", 1)[-1]) and name not in allowed:
                unexplained.append(f"{label}: {name}")
        stale += [f"{label}: {name}" for name in allowed if name not in fields]
    assert not unexplained, "protected fields without a reason in PROTECTED_ALLOWED: " + str(
        unexplained
    )
    assert not stale, f"PROTECTED_ALLOWED names fields the schemas do not have: {stale}"


@contextmanager
def recorded_writes(connection):
    """The INSERT, UPDATE and DELETE statements run on the connection meanwhile."""
    writes: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        verb = statement.lstrip().split(" ", 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE") and not any(
            table in statement for table in BOOKKEEPING
        ):
            writes.append(statement.split("\n", 1)[0][:120])

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield writes
    finally:
        event.remove(connection, "before_cursor_execute", record)


def _first_allowed(access: Access, roles: list[str] | None) -> str | None:
    for party, expected in expectations(access, roles).items():
        if expected == THROUGH and party != "anonymous":
            return party
    return None


@pytest.mark.parametrize("label", [op for op in OPERATIONS if op.split(" ", 1)[0] in WRITES])
def test_protected_fields_are_refused(label, app, matrix, spec_operations, api_spec):
    """Sending protected fields the schema does not take: 422 naming each, nothing written."""
    connection, world = matrix
    operation = spec_operations[label]
    schema = _body_schema(operation, api_spec)
    access = TABLE[label]
    party = _first_allowed(access, operation.get("x-roles"))
    if schema is None or schema.get("type") not in (None, "object") or party is None:
        pytest.skip("no JSON object body to add fields to, or nobody gets through")
    taken = _fields(schema, api_spec)
    sneaked = {name: value for name, value in SNEAKED.items() if name not in taken}
    body = {**(_resolve(access.body, world) or {}), **sneaked}
    with isolated(connection), recorded_writes(connection) as writes:
        response = call(app.test_client(), world, label, access, party, body=body)
    assert response.status_code == 422, (party, response.status_code, response.get_json())
    named = set(response.get_json().get("errors", {}).get("json", {}))
    assert set(sneaked) <= named, f"not named: {sorted(set(sneaked) - named)}"
    assert not writes, f"a refused request wrote: {writes}"


STAFF_ONLY = [
    (label, name)
    for label, fields in sorted(PROTECTED_ALLOWED.items())
    for name, allowed in fields.items()
    if allowed.staff_only
]


@pytest.mark.parametrize(("label", "name"), STAFF_ONLY)
def test_staff_only_fields_are_refused_to_parties(label, name, app, matrix, spec_operations):
    """A field the schema takes for staff: a customer or member sending it gets 422 naming it."""
    connection, world = matrix
    access = TABLE[label]
    for party in ("customer", "member"):
        body = {**(_resolve(access.body, world) or {}), name: world.ids[party]}
        with isolated(connection), recorded_writes(connection) as writes:
            response = call(app.test_client(), world, label, access, party, body=body)
        assert response.status_code == 422, (party, response.status_code, response.get_json())
        assert name in response.get_json()["errors"]["json"], response.get_json()
        assert not writes, f"a refused request wrote: {writes}"
