"""Every row lock in the code is FOR NO KEY UPDATE (or a share lock), as crowd.core.locking
says: a plain FOR UPDATE also blocks the foreign-key checks of inserts that refer to the row,
which is how a review and a capture deadlocked."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import select

from crowd.core.locking import lock_rows
from crowd.extensions import db
from members.models import Member

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("crowd", "jobs", "payouts", "onboarding", "mentoring", "support")


def _lock_calls():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    yield path.relative_to(ROOT), node


def _plain_for_update(node: ast.Call) -> bool:
    """`.with_for_update(…)` without key_share=True or read=…, or `with_for_update=True`."""
    if isinstance(node.func, ast.Attribute) and node.func.attr == "with_for_update":
        given = {k.arg: k.value for k in node.keywords}
        key_share = given.get("key_share")
        return "read" not in given and not (
            isinstance(key_share, ast.Constant) and key_share.value is True
        )
    return any(
        k.arg == "with_for_update"
        and not (isinstance(k.value, ast.Name) and k.value.id == "ROW_LOCK")
        for k in node.keywords
    )


def test_no_row_lock_is_a_plain_for_update():
    plain = [f"{path}:{node.lineno}" for path, node in _lock_calls() if _plain_for_update(node)]
    assert plain == [], "use with_for_update(key_share=True) / ROW_LOCK: " + ", ".join(plain)


def test_the_guard_sees_a_plain_for_update():
    plain = ast.parse("select(Job).with_for_update(of=Job)").body[0].value
    nokey = ast.parse("select(Job).with_for_update(of=Job, key_share=True)").body[0].value
    get = ast.parse("db.session.get(Job, 1, with_for_update=True)").body[0].value
    assert _plain_for_update(plain) and _plain_for_update(get)
    assert not _plain_for_update(nokey)


def test_lock_rows_locks_existing_rows_in_id_order(db_session, member, other_member):
    ids = sorted([member.profile_id, other_member.profile_id])

    assert lock_rows(Member, [ids[1], None, ids[0], ids[1], 2**62]) == ids
    assert lock_rows(Member, []) == []
    assert db.session.scalar(select(Member.id).where(Member.id == ids[0])) == ids[0]
