"""Change stamps (crowd.core.stamps): renewed after a commit, never before, and not on rollback."""

from __future__ import annotations

import pytest

from crowd.core import stamps
from crowd.extensions import db


def key(name: str) -> str:
    return f"test:{name}"


def test_a_stamp_reads_the_same_until_renewed():
    first = stamps.read(key("a"), key("b"))
    assert stamps.read(key("a"), key("b")) == first
    assert first[0] != first[1]
    stamps.renew_now(key("a"))
    again = stamps.read(key("a"), key("b"))
    assert again[0] != first[0] and again[1] == first[1]


def test_a_touch_renews_the_stamp_after_the_commit_only(db_session):
    before = stamps.read(key("c"))
    stamps.touch(db.session(), key("c"))
    db.session.flush()
    assert stamps.read(key("c")) == before  # not yet: readers would see the old rows
    db.session.commit()
    assert stamps.read(key("c")) != before


def test_a_rolled_back_touch_changes_nothing(db_session):
    before = stamps.read(key("d"))
    db.session.connection()  # a unit of work under way, as when anything is written
    stamps.touch(db.session(), key("d"))
    db.session.rollback()
    db.session.commit()
    assert stamps.read(key("d")) == before


def test_a_touch_in_a_rolled_back_savepoint_still_renews(db_session):
    # Spurious renewals are harmless; a missed one is not.
    before = stamps.read(key("e"))
    savepoint = db.session.begin_nested()
    stamps.touch(db.session(), key("e"))
    savepoint.rollback()
    db.session.commit()
    assert stamps.read(key("e")) != before


def test_a_note_comes_back_with_the_current_stamps_of_its_keys():
    stamps.remember(key("note"), "hello", 60, stamps=(key("f"), key("g")))
    text, current = stamps.recall(key("note"))
    assert text == "hello" and current == stamps.read(key("f"), key("g"))
    stamps.renew_now(key("g"))
    assert stamps.recall(key("note"))[1][1] != current[1]
    assert stamps.recall(key("nothing")) is None
    with pytest.raises(ValueError):
        stamps.remember(key("bad"), "x", 60, stamps=("two words",))


def test_signatures_depend_on_every_part():
    assert stamps.signature("a", 1) == stamps.signature("a", 1)
    assert stamps.signature("a", 1) != stamps.signature("a", 2)
