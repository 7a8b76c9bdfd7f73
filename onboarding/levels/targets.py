"""A member's target level: a pure function of their figures, a ladder and the time.

The rules, exactly as every evaluation (event, daily run, dry run) applies them:

- climb: `strict` is the highest rank r such that every level 1..r meets ALL its requirements
  at 100 %.
- keep: `kept` is the highest rank r ≤ the current one such that every level 1..r meets all its
  requirements within the rule set's demotion tolerance (90 % by default: a minimum counts as
  met from 90 % of it, a maximum up to it / 0.9 — metrics.meets).
- locked → no change. strict > current → promote to strict. kept ≥ current → no change.
  Promoted within the last grace_days → no change (grace). Otherwise demote to max(kept, 1).
- A current rank above the ladder's top (a rule set with fewer levels) is brought down to the
  top whatever the grace (the level no longer exists), then judged as if it were the top: it
  may go further down in the same step, grace permitting. Such a change is `clamped` (cause
  "ruleset" when recorded).
- Members without a level (rank 0: applicants) are never evaluated; admission gives rank 1.
- `promote_only` (the event path) never demotes and never clamps.

Rank 1 is the entry level: its requirements may hold members back from climbing (strict) but
nobody goes below rank 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import NamedTuple

from onboarding.levels.metrics import MemberFigures, meets

# What became of a member in one evaluation.
PROMOTE, DEMOTE = "promote", "demote"
UNCHANGED, GRACE, LOCKED, UNRANKED = "unchanged", "grace", "locked", "unranked"


# A requirement compiled for one tolerance: (metric, is a minimum, the bound multiplied out).
Check = tuple[str, bool, float]


def compile_checks(requirements, tolerance_percent: int) -> tuple[Check, ...]:
    """metrics.meets for many members: the same comparisons, multiplied out in advance.

    meets: a minimum is met when value × 100 ≥ min × tolerance; a maximum when
    value × tolerance ≤ max × 100 (None fails a minimum, passes a maximum).
    """
    return tuple(
        (rule["metric"], True, rule["min"] * tolerance_percent)
        if "min" in rule
        else (rule["metric"], False, rule["max"] * 100)
        for rule in requirements
    )


@dataclass(frozen=True)
class Rung:
    """One level of a ladder, as plain data (no ORM, so the crowd loop stays cheap)."""

    rank: int
    code: str
    name: str
    max_concurrent_jobs: int
    requirements: tuple[dict, ...]


@dataclass(frozen=True)
class Ladder:
    """A rule set, compiled for evaluation: its levels by rank and its hysteresis."""

    ruleset_id: int
    version: int
    tolerance_percent: int
    grace_days: int
    rungs: tuple[Rung, ...]

    @classmethod
    def of(cls, ruleset) -> Ladder:
        """Compile a LevelRuleset (with its levels loaded)."""
        rungs = tuple(
            Rung(
                rank=level.rank,
                code=level.code,
                name=level.name,
                max_concurrent_jobs=level.max_concurrent_jobs,
                requirements=tuple(dict(rule) for rule in level.requirements or ()),
            )
            for level in sorted(ruleset.levels, key=lambda level: level.rank)
        )
        return cls(
            ruleset_id=ruleset.id,
            version=ruleset.version,
            tolerance_percent=ruleset.demotion_tolerance_percent,
            grace_days=ruleset.grace_days,
            rungs=rungs,
        )

    @cached_property
    def strict_checks(self) -> tuple[tuple[Check, ...], ...]:
        """Each level's requirements compiled to be met in full (climbing)."""
        return tuple(compile_checks(rung.requirements, 100) for rung in self.rungs)

    @cached_property
    def keep_checks(self) -> tuple[tuple[Check, ...], ...]:
        """Each level's requirements compiled to be met within the tolerance (keeping)."""
        return tuple(
            compile_checks(rung.requirements, self.tolerance_percent) for rung in self.rungs
        )

    @cached_property
    def top(self) -> int:
        return len(self.rungs)

    def rung(self, rank: int) -> Rung | None:
        """The level with `rank` (ranks run 1..top without gaps)."""
        return self.rungs[rank - 1] if 1 <= rank <= len(self.rungs) else None

    def by_code(self, code: str) -> Rung | None:
        return next((rung for rung in self.rungs if rung.code == code), None)

    def code_of(self, rank: int) -> str | None:
        rung = self.rung(rank)
        return rung.code if rung else None


class Decision(NamedTuple):
    """The outcome for one member: where they are, where they go, and why (a tuple: the daily
    run makes one per member, a million of them)."""

    member_id: int
    from_rank: int
    to_rank: int
    outcome: str  # promote, demote, unchanged, grace, locked, unranked
    clamped: bool = False  # their rank was above the ladder's top
    failing: tuple[str, ...] = ()  # metrics not kept (demotions)

    @property
    def changed(self) -> bool:
        return self.to_rank != self.from_rank

    @property
    def direction(self) -> str | None:
        if not self.changed:
            return None
        return "up" if self.to_rank > self.from_rank else "down"


def all_met(metrics: dict, checks: tuple[Check, ...], tolerance_percent: int) -> bool:
    """Whether `metrics` meet every compiled check (see compile_checks)."""
    for metric, is_min, bound in checks:
        value = metrics.get(metric)
        if is_min:
            if value is None or value * 100 < bound:
                return False
        elif value is not None and value * tolerance_percent > bound:
            return False
    return True


def climb(metrics: dict, ladder: Ladder) -> int:
    """`strict`: the highest rank whose level and every level below meet all at 100 %."""
    # all_met inlined: this runs for every member of the crowd, a million calls a day.
    get = metrics.get
    reached = 0
    for checks in ladder.strict_checks:
        for metric, is_min, bound in checks:
            value = get(metric)
            if is_min:
                if value is None or value * 100 < bound:
                    return reached
            elif value is not None and value * 100 > bound:
                return reached
        reached += 1
    return reached


def keep(metrics: dict, ladder: Ladder, up_to: int, *, known: int = 0) -> int:
    """`kept`: the highest rank ≤ up_to whose level and every level below meet all within
    the ladder's tolerance. Levels 1..known are already known to (they met at 100 %)."""
    reached = min(known, up_to)
    tolerance = ladder.tolerance_percent
    for checks in ladder.keep_checks[reached:up_to]:
        if not all_met(metrics, checks, tolerance):
            break
        reached += 1
    return reached


def failing_metrics(metrics: dict, ladder: Ladder, above: int, up_to: int) -> tuple[str, ...]:
    """The metrics a member does not keep in levels above..up_to (what cost them the level)."""
    names: dict[str, None] = {}
    for rung in ladder.rungs[above:up_to]:
        for rule in rung.requirements:
            value = metrics.get(rule["metric"])
            if not meets(value, rule, tolerance_percent=ladder.tolerance_percent):
                names[rule["metric"]] = None
    return tuple(names)


def in_grace(figures: MemberFigures, ladder: Ladder, now: datetime) -> bool:
    promoted_at = figures.promoted_at
    return promoted_at is not None and now - promoted_at < timedelta(days=ladder.grace_days)


def decide(
    figures: MemberFigures, ladder: Ladder, now: datetime, *, promote_only: bool = False
) -> Decision:
    """Where `figures`' member belongs in `ladder` at `now` (see the module docstring)."""
    current = figures.level_rank
    member_id = figures.member_id
    if current < 1:
        return Decision(member_id, current, current, UNRANKED)
    if figures.locked:
        return Decision(member_id, current, current, LOCKED)
    metrics = figures.metrics
    strict = climb(metrics, ladder)
    if strict > current:
        return Decision(member_id, current, strict, PROMOTE)
    if strict == current:
        # Every level up to theirs met in full, so kept too: most of the crowd, most days.
        return Decision(member_id, current, current, UNCHANGED)
    if promote_only:
        return Decision(member_id, current, current, UNCHANGED)
    held = min(current, ladder.top)
    clamped = current > held
    kept = keep(metrics, ladder, held, known=strict)
    # Nobody goes below the entry level.
    target = held if kept >= held else max(kept, 1)
    if target == current:
        return Decision(member_id, current, current, UNCHANGED)
    if target < held and in_grace(figures, ladder, now):
        if clamped:  # the level is gone whatever the grace; no further down
            return Decision(member_id, current, held, DEMOTE, clamped=True)
        return Decision(member_id, current, current, GRACE)
    failing = failing_metrics(metrics, ladder, kept, held) if target < held else ()
    return Decision(member_id, current, target, DEMOTE, clamped=clamped, failing=failing)
