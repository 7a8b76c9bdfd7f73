"""A top-performer run: figures over the window, gates, ranking per cell, badges and perks.

Gates (all must pass): volume (jobs ≥ top_min_jobs), rating (published customer reviews
averaging ≥ top_min_rating_milli / 1000; no review fails it), cancellation (permille ≤
top_max_cancellation_permille), acceptance (permille ≥ top_min_acceptance_permille; no answered
offer in the window leaves it not applicable), no sanction, no lost dispute, and the member
active. Passing members are ranked within their cell (category × region = the member's country)
by score = average rating, ties to more jobs, then fewer cancellations, then the lower member id;
the top top_percent % of the cell's passing members (rounded up, so at least one) are awarded.

A period is evaluated once it has ended, over the window of top_window_months ending with it.
A badge is valid from the period's end through the next period and the one after (grace).
With it, once per member and run, a commission perk (top_commission_discount_bp off, from the
run on — never backdated — to the badge's end), the matching boost and priority support (both
read the badges).
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime
from fractions import Fraction

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import field_error
from crowd.core.i18n import _, _l
from crowd.extensions import db
from members.models import SkillCategory
from mentoring.config import ProgrammeRules, programme_rules
from mentoring.errors import PeriodAlreadyEvaluated, PeriodNotOver, PeriodSuperseded
from mentoring.models import TopPerformerBadge, TopPerformerDecision, TopPerformerRun
from mentoring.top_performers.figures import window_figures
from mentoring.top_performers.periods import Period, parse_period, period_at
from notifications.service import notify
from payouts.plans import grant_perk

GATES = ("status", "volume", "rating", "cancellation", "acceptance", "sanction", "lost_dispute")


def run_period(
    *, actor: Principal | None, period: str | None = None, now: datetime | None = None
) -> TopPerformerRun:
    """Evaluate `period` (default: the latest that has ended) once it has ended; once only.

    A period not over yet is a 409 (state "not_over", `ends_at`), a second run of one a 409
    (state "exists"), a period older than one evaluated a 409 (state "superseded")."""
    rules = programme_rules()
    now = now or utcnow()
    months = rules.top_period_months
    target = parse_period(period, months) if period else latest_ended(now, months)
    if target.start > now:
        raise field_error(
            "period", _("{target_label} has not begun yet", target_label=target.label)
        )
    if target.end > now:
        raise PeriodNotOver(
            _(
                "Period {target_label} runs until {value}; it is evaluated once it has ended.",
                target_label=target.label,
                value=target.end.isoformat(),
            ),
            state="not_over",
            ends_at=target.end.isoformat(),
        )
    _check_new(target)
    window_start, window_end = target.window(rules.top_window_months)
    run = TopPerformerRun(
        period=target.label,
        period_start=target.start,
        period_end=target.end,
        window_start=window_start,
        window_end=window_end,
        criteria=criteria(rules),
        status="running",
        started_by_id=actor.user_id if actor else None,
        created_at=now,
    )
    try:
        # The unique period: a simultaneous run of the same period waits here, then fails.
        with db.session.begin_nested():
            db.session.add(run)
    except IntegrityError:
        raise _already_run(target.label, None) from None
    _evaluate(run, target, rules, now)
    return run


def latest_ended(now: datetime, months: int) -> Period:
    """The latest period that has ended by `now`: the one before the current one."""
    return period_at(now, months).previous()


def period_due(now: datetime | None = None) -> str | None:
    """The latest ended period's label when it has no run yet (what the daily check runs).

    Never the current period: it has not ended, so a run right after start-up finds nothing
    to evaluate early."""
    now = now or utcnow()
    target = latest_ended(now, programme_rules().top_period_months)
    exists = db.session.scalar(
        select(TopPerformerRun.id).where(TopPerformerRun.period == target.label)
    )
    return None if exists else target.label


def criteria(rules: ProgrammeRules) -> dict:
    return {
        "period_months": rules.top_period_months,
        "window_months": rules.top_window_months,
        "min_jobs": rules.top_min_jobs,
        "min_rating_milli": rules.top_min_rating_milli,
        "max_cancellation_permille": rules.top_max_cancellation_permille,
        "min_acceptance_permille": rules.top_min_acceptance_permille,
        "top_percent": rules.top_percent,
        "commission_discount_bp": rules.top_commission_discount_bp,
        "matching_boost_percent": rules.top_matching_boost_percent,
        "score": "average rating; ties: more jobs, fewer cancellations, lower member id",
    }


def _already_run(label: str, run_id: int | None) -> PeriodAlreadyEvaluated:
    return PeriodAlreadyEvaluated(
        f"Period {label} has been evaluated already.", state="exists", run_id=run_id
    )


def _check_new(target: Period) -> None:
    existing = db.session.scalar(
        select(TopPerformerRun.id).where(TopPerformerRun.period == target.label)
    )
    if existing is not None:
        raise _already_run(target.label, existing)
    latest = db.session.scalar(select(func.max(TopPerformerRun.period_start)))
    if latest is not None and latest > target.start:
        raise PeriodSuperseded(
            _(
                "A later period has been evaluated; {target_label} is history.",
                target_label=target.label,
            ),
            state="superseded",
        )


def failed_gates(row: dict, rules: ProgrammeRules) -> list[str]:
    """The gates a pair fails, in GATES order (exact integer comparisons, no rounding)."""
    f = row["figures"]
    taken = f["jobs"] + f["cancellations"]
    failed = {
        "status": row["member_status"] != "active",
        "volume": f["jobs"] < rules.top_min_jobs,
        "rating": f["rating_count"] == 0
        or f["rating_sum"] * 1000 < rules.top_min_rating_milli * f["rating_count"],
        "cancellation": f["cancellations"] * 1000 > rules.top_max_cancellation_permille * taken,
        "acceptance": f["offers_answered"] > 0
        and f["offers_accepted"] * 1000 < rules.top_min_acceptance_permille * f["offers_answered"],
        "sanction": f["sanctions"] > 0,
        "lost_dispute": f["lost_disputes"] > 0,
    }
    return [gate for gate in GATES if failed[gate]]


def _rank_key(row: dict):
    f = row["figures"]
    return (
        -Fraction(f["rating_sum"], f["rating_count"]),
        -f["jobs"],
        f["cancellations"] * Fraction(1, max(1, f["jobs"] + f["cancellations"])),
        row["member_id"],
    )


def _rank(rows: list[dict], top_percent: int) -> None:
    """Rank passing pairs within their (category, region) cell and mark the top share."""
    cells: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for row in rows:
        row.update(rank=None, score=None, awarded=False)
        if not row["failed_gates"]:
            cells[(row["category_id"], row["region"])].append(row)
    for row in rows:
        row["cell_size"] = len(cells.get((row["category_id"], row["region"]), ()))
    for cell in cells.values():
        cell.sort(key=_rank_key)
        quota = max(1, math.ceil(len(cell) * top_percent / 100))
        for position, row in enumerate(cell, start=1):
            row.update(rank=position, score=row["figures"]["rating"], awarded=position <= quota)


def _evaluate(run: TopPerformerRun, target: Period, rules: ProgrammeRules, now: datetime) -> None:
    rows = window_figures(run.window_start, run.window_end)
    for row in rows:
        row["failed_gates"] = failed_gates(row, rules)
    _rank(rows, rules.top_percent)
    if rows:
        db.session.execute(
            insert(TopPerformerDecision),
            [
                {
                    "run_id": run.id,
                    **{k: row[k] for k in ("member_id", "category_id", "region", "figures")},
                    **{k: row[k] for k in ("failed_gates", "score", "rank", "cell_size")},
                    "awarded": row["awarded"],
                }
                for row in rows
            ],
        )
    awarded = [row for row in rows if row["awarded"]]
    _award(run, target, rules, awarded, now)
    run.evaluated, run.awarded = len(rows), len(awarded)
    run.status, run.finished_at = "done", now
    db.session.flush()


def _award(run, target: Period, rules: ProgrammeRules, awarded: list[dict], now) -> None:
    """Badges, one commission perk per member, and a notification per member.

    Valid from the end of the evaluated period through the next one and the one after."""
    badge_period = target.next()
    valid_until = badge_period.next().end
    by_member: dict[int, list[dict]] = defaultdict(list)
    for row in awarded:
        by_member[row["member_id"]].append(row)
    slugs = dict(db.session.execute(select(SkillCategory.id, SkillCategory.slug)).all())
    for member_id, member_rows in sorted(by_member.items()):
        perk = None
        if valid_until > now:
            perk = grant_perk(
                member_id=member_id,
                discount_bp=rules.top_commission_discount_bp,
                reason=f"Top performer {run.period}",
                valid_from=max(now, badge_period.start),
                valid_to=valid_until,
            )
        for row in member_rows:
            db.session.add(
                TopPerformerBadge(
                    run_id=run.id,
                    member_id=member_id,
                    category_id=row["category_id"],
                    region=row["region"],
                    valid_from=badge_period.start,
                    valid_until=valid_until,
                    perk_id=perk.id if perk else None,
                )
            )
        categories = sorted(slugs.get(row["category_id"], "?") for row in member_rows)
        notify(
            member_rows[0]["user_id"],
            "mentoring.top_performer_awarded",
            _l("You are a top performer for {run_period}", run_period=run.period),
            _l(
                "Categories: {value}. Until {value2}: {value3:g} points off "
                "your commission, a boost in matching and priority support.",
                value=", ".join(categories),
                value2=valid_until.date().isoformat(),
                value3=rules.top_commission_discount_bp / 100,
            ),
            dedupe_key=f"top_performer.awarded:{run.id}:{member_id}",
            run_id=run.id,
            period=run.period,
            categories=categories,
            valid_until=valid_until.isoformat(),
        )
