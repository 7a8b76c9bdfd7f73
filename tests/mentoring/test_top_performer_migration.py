"""The i18_ops data migration relabels runs made before periods were evaluated once ended."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import select

from crowd.extensions import db
from mentoring.models import TopPerformerRun

MIGRATION = (
    Path(__file__).resolve().parents[2] / "migrations/versions/i18_ops_top_performer_periods.py"
)


def _migration():
    spec = importlib.util.spec_from_file_location("i18_ops", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(label: str, start: datetime, end: datetime, window_end: datetime) -> TopPerformerRun:
    run = TopPerformerRun(
        period=label,
        period_start=start,
        period_end=end,
        window_start=datetime(2025, 10, 1, tzinfo=UTC),
        window_end=window_end,
        criteria={"period_months": 3},
        status="done",
        created_at=datetime(2026, 11, 2, tzinfo=UTC),
    )
    db.session.add(run)
    db.session.flush()
    return run


def test_early_runs_are_relabelled_with_the_period_they_evaluated_and_back(app):
    q3, q4 = datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)
    q2, q1_next = datetime(2026, 4, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    older = _run("2026-Q3", q3, q4, window_end=q3)  # old style: the window ended at the start
    early = _run("2026-Q4", q4, q1_next, window_end=q4)  # the start-up run
    module = _migration()
    with Operations.context(MigrationContext.configure(db.session.connection())):
        module.upgrade()
        db.session.expire_all()
        rows = db.session.scalars(select(TopPerformerRun).order_by(TopPerformerRun.id)).all()
        assert [(r.period, r.period_start, r.period_end) for r in rows] == [
            ("2026-Q2", q2, q3),
            ("2026-Q3", q3, q4),
        ]
        assert all(r.window_end == r.period_end for r in rows)
        module.upgrade()  # a new-style run is left alone
        db.session.expire_all()
        assert db.session.get(TopPerformerRun, early.id).period == "2026-Q3"
        module.downgrade()
        db.session.expire_all()
        assert db.session.get(TopPerformerRun, older.id).period == "2026-Q3"
        assert db.session.get(TopPerformerRun, early.id).period == "2026-Q4"
    db.session.rollback()
