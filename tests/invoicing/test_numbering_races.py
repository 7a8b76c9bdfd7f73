"""Numbers without gaps while documents are issued at the same moment — on PostgreSQL and on
the embedded SQLite: every committed document of a series has the next number, a rolled-back
issue gives its number back, and a document for one source is made once however many race."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from crowd.core.db import commit, db
from invoicing import issuing
from invoicing.document import DocumentData, Line, Party
from invoicing.models import Document
from tests.concurrency import run_concurrently, task_unit

pytestmark = pytest.mark.committing

PARTY = Party(
    name="Muster GmbH", street="Hauptstraße 1", postcode="10115", city="Berlin", country="DE"
)


def _data() -> DocumentData:
    return DocumentData(
        kind="invoice",
        number="",
        language="de",
        issue_date=date(2026, 12, 7),
        currency="EUR",
        supplier=issuing.platform_party(),
        recipient=PARTY,
        lines=(
            Line(
                description="Auftrag",
                service_date=date(2026, 12, 6),
                net=10084,
                vat_rate_bp=1900,
                vat=1916,
                gross=12000,
            ),
        ),
        scheme="standard",
    )


def _issue(app, source_key: str, *, fail: bool = False) -> str | None:
    with task_unit(app):
        document = issuing.issue(_data(), source_key=source_key, recipient_type="customer")
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
