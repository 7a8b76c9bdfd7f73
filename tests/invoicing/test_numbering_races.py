"""Numbers without gaps while documents are issued at the same moment — on PostgreSQL and on
the embedded SQLite: every committed document of a series has the next number, a rolled-back
issue gives its number back, and a document for one source is made once however many race."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crowd.core.db import commit, db
from invoicing import issuing
from invoicing.models import Document
from tests.concurrency import run_concurrently, task_unit
from tests.invoicing.samples import german_business_invoice

pytestmark = pytest.mark.committing


def _issue(app, source_key: str, *, fail: bool = False) -> str | None:
    with task_unit(app):
        document = issuing.issue(
            german_business_invoice(), source_key=source_key, recipient_type="customer"
        )
        number = document.number
        if fail:
            db.session.rollback()
            return None
        commit()
        return number


def test_concurrent_issues_take_dense_numbers_and_failures_give_theirs_back(app):
    count = 12

    def issue(_client, i):
        # Every third issuer fails after taking its number (its transaction rolls back).
        return _issue(app, f"race:{i}", fail=i % 3 == 2)

    numbers = [n for n in run_concurrently(app, count, issue) if n is not None]
    assert len(numbers) == count - count // 3
    sequences = sorted(db.session.scalars(select(Document.sequence).where(Document.series == "RE")))
    assert sequences == list(range(1, len(numbers) + 1))
    assert sorted(numbers) == sorted(
        db.session.scalars(select(Document.number).where(Document.series == "RE"))
    )


def test_one_source_racing_makes_one_document(app):
    numbers = run_concurrently(app, 6, lambda _client, _i: _issue(app, "race:same"))
    assert len(set(numbers)) == 1
    assert db.session.scalars(select(Document.sequence)).all() == [1]
