"""No endpoint a customer or member calls tells a member they may not see from no member.

Applicants, suspended and departed members are outside the working crowd: for every operation
that takes a member id in its path (and those that take one in the body), the answer about
such a member is the answer about an id that names no one — same status, same problem body.
"""

from __future__ import annotations

import re

import pytest

from crowd.extensions import db
from members.models import Member
from tests.api.authz_table import table
from tests.factories import make_actor
from tests.jobs.conftest import job_body

HIDDEN_STATUSES = ("applicant", "suspended", "offboarded")
MISSING_ID = 987_654_321
PARTIES = ("customer", "member")


def _member_in(status: str) -> int:
    actor = make_actor("member", city="Leipzig")
    db.session.get(Member, actor.profile_id).status = status
    db.session.commit()
    return actor.profile_id


def _answer(response) -> tuple[int, dict | None]:
    body = response.get_json(silent=True)
    if isinstance(body, dict):
        body = {key: value for key, value in body.items() if key not in ("instance", "request_id")}
    return response.status_code, body


def _path_operations(spec_operations: dict) -> list[tuple[str, str]]:
    """(label, party) for each operation with {member_id} in its path a party may call."""
    found = []
    for label, operation in spec_operations.items():
        roles = operation.get("x-roles") or []
        if "{member_id}" not in label:
            continue
        for party in PARTIES:
            if party in roles or roles == ["any"]:
                found.append((label, party))
    return found


def test_member_ids_in_paths_reveal_nothing_about_hidden_members(client, spec_operations):
    operations = _path_operations(spec_operations)
    # Profiles, status history, reviews, plans, statements, levels, training, sanctions, and
    # the customer's favourites and blocked members.
    assert len(operations) >= 12, operations
    hidden = {status: _member_in(status) for status in HIDDEN_STATUSES}
    callers = {party: make_actor(party).headers for party in PARTIES}
    access = table()
    different = []
    for label, party in operations:
        method, path = label.split(" ", 1)
        entry = access[label]
        path = re.sub(r"\{(?!member_id)[^}]+\}", "x", path)

        def call(member_id, path=path, method=method, entry=entry, party=party):
            return client.open(
                path.replace("{member_id}", str(member_id)),
                method=method,
                query_string=entry.query,
                # A valid body (the table's): the answer is about the member, not the input.
                json=entry.body,
                headers=callers[party],
            )

        missing = _answer(call(MISSING_ID))
        assert missing[0] in (403, 404), (label, party, missing)
        for status, member_id in hidden.items():
            answer = _answer(call(member_id))
            if answer != missing:
                different.append((label, party, status, answer, missing))
    assert not different, different


@pytest.mark.parametrize("status", HIDDEN_STATUSES)
def test_a_hidden_preferred_member_is_refused_like_a_missing_one(client, customer, status):
    hidden = _member_in(status)
    answers = [
        _answer(
            client.post(
                "/api/v1/jobs",
                json=job_body(preferred_member_id=member_id),
                headers=customer.headers,
            )
        )
        for member_id in (hidden, MISSING_ID)
    ]
    assert answers[0] == answers[1]
    assert answers[0][0] == 422
