"""Dispatch: waves of offers, their expiry, and escalation to community managers.

How a job finds its member:

1. Posting enqueues `jobs.dispatch_wave` (held by a gate: the gate's lifter sends it). If the
   customer named a preferred member who is eligible, that member alone gets an *exclusive*
   offer held for `preferred_hold_minutes`.
   Otherwise (or once the hold is over) the top `wave_size` ranked candidates get offers at
   once, expiring after `offer_ttl_same_day_minutes` when the first window starts within 24 h,
   else after `offer_ttl_later_minutes`.
2. The first member to accept wins (jobs.assignment).
3. When every offer of a wave has expired or been declined, the next wave goes out to the next
   candidates. Nobody is offered the same job twice (a unique (job, member) key backs this).
4. After `max_waves` general waves in a round, or when no eligible member is left, the job is
   escalated (back to open, `escalated_at` set) for community managers, who can send a wave
   now (a fresh round) or assign a member directly. A round begins at posting, when the
   assigned member backs out, and when staff send a wave by hand; the preferred member's
   exclusive offer does not use up a wave.
5. Dispatch gates (`add_dispatch_gate`, filled by higher packages' `wiring`) may hold a job:
   while one gives a reason, no wave goes out (the system's step skips with that reason, staff
   get 409 dispatch-held). Posting queues no wave while a gate holds; whoever lifts the hold
   sends the wave (`request_dispatch`).

Locks are always taken in the same order — job first, then member, then offers — so
concurrent accepts, declines, expiry and staff actions serialise without deadlocks. Nothing
here commits: the request's or the task's unit of work does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from crowd.core.auth import Principal
from crowd.core.background import enqueue
from crowd.core.db import utcnow
from crowd.core.errors import NotFound
from crowd.core.events import Event, declare, emit
from crowd.core.i18n import _, _l
from crowd.extensions import db
from customers.models import Customer
from jobs.config import job_rules
from jobs.errors import DispatchHeld, NoCandidateLeft, OffersPending
from jobs.lifecycle import next_status, transition
from jobs.matching import eligibility_problems, rank_candidates
from jobs.models import Job, JobEvent, Offer
from jobs.offers import send as send_offers
from jobs.offers import transition as offer_transition
from jobs.queries import lock_job
from members.models import Member
from members.service import record_offers_received
from notifications.service import notify_many

declare("job.escalated")

log = logging.getLogger(__name__)

WAVE_TASK = "jobs.dispatch_wave"
EXPIRE_TASK = "jobs.expire_offers_for_job"
DISPATCHABLE = ("open", "offered")
SAME_DAY = timedelta(hours=24)

# fn(job) -> why the job may not be offered now, or None: checked before every wave.
DispatchGate = Callable[[Job], "str | None"]
DISPATCH_GATES: list[DispatchGate] = []


def add_dispatch_gate(gate: DispatchGate) -> None:
    """Let a higher package hold jobs back from dispatch (its `wiring` calls this at start)."""
    if gate not in DISPATCH_GATES:
        DISPATCH_GATES.append(gate)


def hold_reason(job: Job) -> str | None:
    """The first gate's reason to hold `job` back from dispatch, or None when it may go out."""
    for gate in DISPATCH_GATES:
        reason = gate(job)
        if reason:
            return reason
    return None


def request_dispatch(job: Job) -> bool:
    """A hold on an open job was lifted: its first wave goes out now, in the caller's unit of
    work (unless escalated to staff, or another gate still holds it).

    Sent here rather than queued: the lifter is a task already (the payment's authorisation),
    and a queued wave was a second hop between posting and the first offer — one more RQ job
    per posted job (bench/load.py: ~5 ms of background CPU) and its queueing delay."""
    if job.status != "open" or job.escalated_at is not None or job.assigned_member_id:
        return False
    try:
        # In a savepoint: a wave that fails must not undo the lifter's own work (a recorded
        # authorisation); it is queued instead and retried like any task.
        with db.session.begin_nested():
            return send_wave(job.id).outcome == "offers"
    except Exception:
        log.exception("the first wave of job %s failed; queued instead", job.id)
        enqueue(WAVE_TASK, job_id=job.id)
        return True


@dataclass
class WaveOutcome:
    """What one dispatch attempt did: sent offers, escalated the job, or nothing (and why)."""

    job: Job | None
    outcome: str  # "offers" | "escalated" | "skipped" | "held" (a dispatch gate's reason)
    offers: list[Offer] = field(default_factory=list)
    reason: str | None = None


# --- locks and lookups ---------------------------------------------------------------------


def customer_user_id(job: Job) -> int:
    return db.session.scalar(select(Customer.user_id).where(Customer.id == job.customer_id))


def pending_offer_count(job_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Offer)
        .where(Offer.job_id == job_id, Offer.status == "pending")
    )


def excluded_member_ids(job_id: int) -> set[int]:
    """Members never to be offered this job again: everyone offered it, and who backed out."""
    offered = set(db.session.scalars(select(Offer.member_id).where(Offer.job_id == job_id)))
    # A directly assigned member who withdrew has no offer row; the event remembers them.
    details = db.session.scalars(
        select(JobEvent.detail).where(JobEvent.job_id == job_id, JobEvent.action == "withdraw")
    )
    backed_out = {d["member_id"] for d in details if d and d.get("member_id") is not None}
    return offered | backed_out


def offer_ttl(job: Job, now: datetime) -> timedelta:
    """How long a general offer stays open: short when the job is due within a day."""
    rules = job_rules()
    first_start = min((w.starts_at for w in job.windows), default=None)
    same_day = first_start is not None and first_start - now <= SAME_DAY
    minutes = rules.offer_ttl_same_day_minutes if same_day else rules.offer_ttl_later_minutes
    return timedelta(minutes=minutes)


def _general_waves_in_round(job_id: int) -> int:
    """General (non-exclusive) waves sent since the round began.

    A round begins when the job is posted, when its member backs out, and when staff send a
    wave by hand (that wave is the round's first).
    """
    events = db.session.execute(
        select(JobEvent.action, JobEvent.actor, JobEvent.detail)
        .where(JobEvent.job_id == job_id, JobEvent.action.in_(("dispatch", "withdraw")))
        .order_by(JobEvent.id)
    )
    count = 0
    for action, actor, detail in events:
        if action == "withdraw" or actor == "staff":
            count = 0
        if action == "dispatch" and not (detail or {}).get("exclusive"):
            count += 1
    return count


# --- sending waves -------------------------------------------------------------------------


def send_wave(job_id: int, *, after_wave: int | None = None) -> WaveOutcome:
    """The system's dispatch step (task `jobs.dispatch_wave`): idempotent, safe to run twice.

    Does nothing unless the job is open or offered, unassigned, not escalated, has no pending
    offer and (when `after_wave` is given) is still at that wave.
    """
    job = lock_job(job_id)
    if job is None:
        return WaveOutcome(None, "skipped", reason="no such job")
    if job.status not in DISPATCHABLE or job.assigned_member_id is not None:
        return WaveOutcome(job, "skipped", reason=f"job is {job.status}")
    if job.escalated_at is not None:
        return WaveOutcome(job, "skipped", reason="escalated: waiting for staff")
    if after_wave is not None and job.wave != after_wave:
        return WaveOutcome(job, "skipped", reason="the next wave went out already")
    if pending_offer_count(job.id):
        return WaveOutcome(job, "skipped", reason="offers are still pending")
    held = hold_reason(job)
    if held:
        return WaveOutcome(job, "held", reason=held)
    return _dispatch(job, actor="system", actor_user_id=None)


def dispatch_now(*, actor: Principal, job_id: int) -> WaveOutcome:
    """Staff send the next wave now, e.g. after escalation: a fresh round, escalation cleared."""
    job = lock_job(job_id)
    if job is None:
        raise NotFound(_("No such job."))
    # The state machine says whether staff may dispatch now (409 with the current state).
    next_status(job, "dispatch", "staff")
    if pending_offer_count(job.id):
        raise OffersPending(_("Offers of this job are still pending."), state=job.status)
    held = hold_reason(job)
    if held:
        raise DispatchHeld(held, state=job.status)
    job.escalated_at, job.escalation_reason = None, None
    outcome = _dispatch(job, actor="staff", actor_user_id=actor.user_id)
    if outcome.outcome != "offers":
        raise NoCandidateLeft(
            _("No eligible member is left to offer this job; assign one directly."),
            state=job.status,
        )
    return outcome


def _dispatch(job: Job, *, actor: str, actor_user_id: int | None) -> WaveOutcome:
    """Send the preferred member's exclusive offer, else the next general wave, else escalate."""
    rules = job_rules()
    excluded = excluded_member_ids(job.id)
    preferred = job.preferred_member_id
    if (
        preferred is not None
        and preferred not in excluded
        and not eligibility_problems(job, preferred)
    ):
        hold = timedelta(minutes=rules.preferred_hold_minutes)
        member = db.session.get(Member, preferred)
        candidate = Pick(member_id=preferred, user_id=member.user_id, score=0.0)
        return send_offer_wave(
            job, [candidate], ttl=hold, exclusive=True, actor=actor, actor_user_id=actor_user_id
        )
    if actor == "system" and _general_waves_in_round(job.id) >= rules.max_waves:
        return _escalate(job, f"No member accepted in {rules.max_waves} waves.")
    candidates = rank_candidates(job, limit=rules.wave_size, exclude_member_ids=excluded)
    if not candidates:
        if actor == "staff":
            return WaveOutcome(job, "skipped", reason="no candidates")
        return _escalate(job, "No eligible member is left to offer this job to.")
    picks = [Pick(c.member_id, c.user_id, c.score) for c in candidates]
    return send_offer_wave(
        job,
        picks,
        ttl=offer_ttl(job, utcnow()),
        exclusive=False,
        actor=actor,
        actor_user_id=actor_user_id,
    )


@dataclass(frozen=True)
class Pick:
    """A member a wave offers the job to, with their ranking score."""

    member_id: int
    user_id: int
    score: float


def send_offer_wave(
    job: Job,
    picks: list[Pick],
    *,
    ttl: timedelta,
    exclusive: bool,
    actor: str,
    actor_user_id: int | None,
    action: str = "dispatch",
) -> WaveOutcome:
    """Create one wave's offers together with the job's move to offered, in one transaction
    (`action` "offer": staff's offer to one member they chose, jobs.targeted)."""
    now = utcnow()
    expires_at = now + ttl
    job.wave += 1
    offers = send_offers(
        job,
        [pick.member_id for pick in picks],
        exclusive=exclusive,
        scores=[pick.score for pick in picks],
        expires_at=expires_at,
        now=now,
        by=actor,
        actor_user_id=actor_user_id,
    )
    transition(
        job,
        action,
        actor=actor,
        actor_user_id=actor_user_id,
        wave=job.wave,
        exclusive=exclusive,
        member_ids=[pick.member_id for pick in picks],
    )
    db.session.flush()
    # The wave's counters and notices, as one batch each (two statements, members locked in
    # one order), not per offer.sent: concurrent waves never deadlock on members' stats.
    record_offers_received([pick.member_id for pick in picks])
    notify_many(
        "offer.new",
        _l("New job offer") if not exclusive else _l("A customer asked for you"),
        _l(
            "{job_title} in {job_city}; answer by {expires_at:%Y-%m-%d %H:%M} UTC.",
            job_title=job.title,
            job_city=job.city,
            expires_at=expires_at,
        ),
        recipients=[
            (pick.user_id, f"offer.new:{offer.id}", {"offer_id": offer.id, "job_id": job.id})
            for pick, offer in zip(picks, offers, strict=True)
        ],
    )
    enqueue(EXPIRE_TASK, run_at=expires_at, job_id=job.id, wave=job.wave)
    return WaveOutcome(job, "offers", offers=offers)


def _escalate(job: Job, reason: str) -> WaveOutcome:
    """Hand the job to community managers (they filter the staff job list by escalated)."""
    transition(job, "escalate", actor="system", reason=reason, wave=job.wave)
    job.escalated_at = utcnow()
    job.escalation_reason = reason[:200]
    # Whether the job was open or offered (a same-state move emits no job.<state>): staff are
    # told by jobs.events.tell_staff_escalated.
    emit(
        Event(
            "job.escalated",
            "job",
            job.id,
            "system",
            payload={"reason": job.escalation_reason, "wave": job.wave},
            occurred_at=job.escalated_at,
        )
    )
    return WaveOutcome(job, "escalated", reason=reason)


def withdraw_pending_offers(
    job: Job, *, reason: str, by: str = "system", actor_user_id: int | None = None
) -> int:
    """Withdraw the job's pending offers and tell their members (the caller holds the job lock)."""
    now = utcnow()
    rows = db.session.execute(
        select(Offer, Member.user_id)
        .join(Member, Member.id == Offer.member_id)
        .where(Offer.job_id == job.id, Offer.status == "pending")
        .order_by(Offer.id)
        .with_for_update(of=Offer, key_share=True)
        .execution_options(populate_existing=True)
    ).all()
    for offer, _unused in rows:
        offer_transition(
            offer, "withdraw", by=by, actor_user_id=actor_user_id, now=now, reason=reason
        )
    notify_many(
        "offer.withdrawn",
        _l("Offer withdrawn"),
        _l("{job_title}: another member took it.", job_title=job.title)
        if reason == "taken"
        else _l("{job_title}: {reason}", job_title=job.title, reason=reason),
        recipients=[
            (user_id, f"offer.withdrawn:{offer.id}", {"offer_id": offer.id, "job_id": job.id})
            for offer, user_id in rows
        ],
    )
    return len(rows)


def withdraw_member_offers(
    member_id: int, jobs: list[Job], *, by: str = "staff", actor_user_id: int | None = None
) -> int:
    """Withdraw `member_id`'s pending offers of `jobs` (locked by the caller, before the
    member) and move those jobs on, telling nobody: a suspension says it (support.sanctions)."""
    if not jobs:
        return 0
    now = utcnow()
    offers = db.session.scalars(
        select(Offer)
        .where(
            Offer.member_id == member_id,
            Offer.status == "pending",
            Offer.job_id.in_([job.id for job in jobs]),
        )
        .order_by(Offer.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).all()
    for offer in offers:
        offer_transition(
            offer, "withdraw", by=by, actor_user_id=actor_user_id, now=now, reason="suspended"
        )
    db.session.flush()
    for job in jobs:
        next_wave_if_idle(job)
    return len(offers)


# --- expiry --------------------------------------------------------------------------------


def expire_job_offers(job_id: int) -> int:
    """Expire the job's offers that are past their time; start the next wave if none is left."""
    job = lock_job(job_id)
    if job is None:
        return 0
    expired = _expire_pending([job.id])
    next_wave_if_idle(job)
    return expired


def expire_due_offers(limit: int = 500) -> int:
    """Safety net (periodic): expire every overdue pending offer, then move those jobs on.

    Jobs are locked in id order and busy ones skipped (an accept holds them; the next run gets
    them), so this never waits on, or deadlocks with, a request.
    """
    now = utcnow()
    due_job_ids = (
        select(Offer.job_id)
        .where(Offer.status == "pending", Offer.expires_at <= now)
        .distinct()
        .limit(limit)
    )
    jobs = list(
        db.session.scalars(
            select(Job)
            .where(Job.id.in_(due_job_ids))
            .order_by(Job.id)
            .with_for_update(skip_locked=True, key_share=True)
            .execution_options(populate_existing=True)
        )
    )
    if not jobs:
        return 0
    expired = _expire_pending([job.id for job in jobs], now=now)
    for job in jobs:
        next_wave_if_idle(job)
    return expired


def _expire_pending(job_ids: list[int], *, now: datetime | None = None) -> int:
    """Expire the overdue pending offers of these (locked) jobs, one transition each."""
    now = now or utcnow()
    offers = db.session.scalars(
        select(Offer)
        .where(Offer.job_id.in_(job_ids), Offer.status == "pending", Offer.expires_at <= now)
        .order_by(Offer.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).all()
    for offer in offers:
        offer_transition(offer, "expire", by="system", now=now)
    return len(offers)


def next_wave_if_idle(job: Job) -> None:
    """Queue the next wave when an offered job has no pending offer left."""
    if job.status == "offered" and not pending_offer_count(job.id):
        enqueue(WAVE_TASK, job_id=job.id, after_wave=job.wave)
