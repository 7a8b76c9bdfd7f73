"""Six months of jobs: planned from the random source, replayed through the job services.

A plan fixes a job's customer, member, category, times and fate; its steps post, assign (or
let matching offer it and a member accept), start, complete, confirm or cancel, review and
dispute it through the same services the API calls, so the job events, payments, ledger
postings, stats, notices and timers are those of real jobs. Steps after `now` do not run:
the youngest jobs stay open, offered, assigned, in progress, completed or disputed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from crowd.extensions import db
from demo.history.cast import Cast, CastCustomer, CastMember
from demo.history.replay import Replay
from jobs.assignment import accept_offer, assign_member
from jobs.dispatch import DISPATCH_GATES, add_dispatch_gate, request_dispatch
from jobs.models import Job, Offer
from jobs.posting import post_job
from jobs.reviews import submit_review
from jobs.service import cancel_job, confirm_job, dispute_job
from jobs.work import cancel_job as withdraw_job
from jobs.work import complete_job, start_job
from support.messages import post_message
from support.models import Resolution, Ticket
from support.resolutions.proposals import impose, propose
from support.tickets.actions import assign as take_ticket

# Fates and their weights: most jobs go well, some are cancelled, a few disputed.
FATES = {
    "confirmed": 64,
    "auto_confirmed": 8,
    "cancelled_open": 5,
    "cancelled_assigned": 5,
    "cancelled_staff": 2,
    "withdrawn": 4,
    "disputed": 6,
}
RESOLUTIONS = (("release", 5), ("partial_refund", 3), ("split", 2), ("full_refund", 2))
CURRENCY = {"DE": "EUR", "AT": "EUR", "CH": "CHF"}
CUSTOMER_COMMENTS = (
    "Pünktlich, freundlich und sauber gearbeitet.",
    "Alles erklärt, funktioniert wieder einwandfrei.",
    "Schnell und kompetent – gerne wieder.",
    "Sehr ordentlich, Kabel perfekt versteckt.",
    None,
    None,
)
MEMBER_COMMENTS = ("Gut vorbereitet, Zugang klappte problemlos.", "Sehr nette Kundin.", None)
DISPUTE_REASONS = (
    "The device stopped working again the next day.",
    "The bracket is not level and the work took far longer than agreed.",
    "Parts were charged that I never saw being installed.",
)
CANCEL_REASONS = ("Plans changed", "Found a solution myself", "Appointment no longer fits")
FIRST_REPLIES = (
    "Thanks for telling us. I am looking into it and will come back to you both today.",
    "Sorry to hear that. I have asked the member for their side and will mediate.",
    "Thank you, I have your report. Could you send a photo of the result?",
)
HELD = "demo: the offers go out a few minutes after posting"


def timing(plan: JobPlan) -> dict[str, timedelta]:
    """When a job's offers go out after posting, and when the community manager first answers
    and settles its dispute: drawn from the plan's own variant, so the main random source (and
    with it the rest of the history) stays as it was. Most answers come within minutes to an
    hour or two, some late (the high-priority SLA: 2 h to answer, 24 h to resolve)."""
    rng = random.Random(plan.variant ^ 0x5EED)
    offers = rng.choices(((2, 12), (12, 30), (30, 75)), weights=(65, 28, 7))[0]
    reply = rng.choices(((4, 45), (45, 110), (150, 600)), weights=(60, 25, 15))[0]
    settle = rng.choices(((3, 20), (30, 60)), weights=(80, 20))[0]
    return {
        # Before the member takes it up (20 minutes or more after posting).
        "offers": timedelta(minutes=min(rng.uniform(*offers), 15 + 5 * plan.after[0])),
        "reply": timedelta(minutes=rng.uniform(*reply)),
        "settle": timedelta(hours=rng.uniform(*settle)),
    }


@dataclass
class JobPlan:
    customer: CastCustomer
    address: tuple[int, str, str]
    member: CastMember
    skill: str
    category: str
    posted: datetime
    starts: datetime
    minutes: int
    price: int
    fate: str
    by_offer: bool
    stars: int
    member_stars: int | None
    reviewed: bool
    after: list[float]  # hours of delay drawn for the fate's later steps
    backup: CastMember | None = None
    # Picks the texts and the settlement: drawn with the plan, so the same seed gives the same
    # history whatever ids the database hands out.
    variant: int = 0
    job_id: int | None = None


def _weighted(rng: random.Random, table) -> str:
    items = list(table.items()) if isinstance(table, dict) else list(table)
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def plan_jobs(
    rng: random.Random, cast: Cast, start: datetime, now: datetime, scale: float
) -> list[JobPlan]:
    """Who works for whom when: a dozen busy members, the newly approved, and the rest."""
    by_country: dict[str, list[CastCustomer]] = {}
    for customer in cast.customers:
        by_country.setdefault(customer.addresses[0][1], []).append(customer)
    members = [m for m in cast.members if m.country in by_country]
    if not members:
        return []
    seniors = [m for m in members if m.level >= 3 and m.approved_at < start]
    busy = rng.sample(seniors, min(len(seniors), max(2, round(6 * scale))))
    recent = [m for m in members if m.approved_at >= now - timedelta(days=100)]
    others = [m for m in members if m not in busy and m not in recent]
    # Busy members work mostly in the first months: the top-performer run at the start of
    # this quarter looks back on them (at least 20 confirmed jobs in its window).
    work: list[tuple[CastMember, int, float]] = [(m, rng.randint(30, 36), 0.75) for m in busy]
    work += [(m, rng.randint(1, 3), 1.0) for m in recent if rng.random() < 0.55]
    work += [(m, rng.randint(1, 2), 1.0) for m in rng.sample(others, round(len(others) * 0.2))]
    if members[0].id == min(cast.users):  # the named demo member works regularly
        work.append((members[0], 10, 1.0))
    plans = []
    for member, count, early in work:
        first = max(start, member.approved_at + timedelta(days=1))
        if first >= now - timedelta(hours=6):
            continue
        for _ in range(count):
            span = (now - first) * (early if rng.random() < 0.8 else 1.0)
            plans.append(_plan(rng, member, first, span, by_country, members, member in busy))
    plans.sort(key=lambda p: p.posted)
    return plans


def _plan(rng, member, first, span, by_country, members, busy) -> JobPlan:
    customers = by_country[member.country]
    local = [c for c in customers if any(a[2] == member.city for a in c.addresses)]
    customer = rng.choice(local if local and rng.random() < 0.7 else customers)
    address = next((a for a in customer.addresses if a[1] == member.country), customer.addresses[0])
    skill, category = rng.choice(member.skills)
    posted = first + timedelta(seconds=rng.uniform(0, span.total_seconds()))
    posted = posted.replace(minute=rng.randrange(0, 60, 5), second=0, microsecond=0)
    day = posted + timedelta(days=rng.randint(1, 6))
    starts = day.replace(hour=rng.randint(7, 16), minute=rng.choice((0, 30)), second=0)
    fate = _weighted(rng, FATES)
    if busy and fate in ("withdrawn", "disputed", "cancelled_assigned"):
        fate = "confirmed"  # the best keep their record clean
    stars = rng.choices((5, 4, 3, 2), weights=(80, 17, 2, 1) if busy else (55, 30, 10, 5))[0]
    backups = [m for m in members if m.country == member.country and m is not member]
    return JobPlan(
        customer=customer,
        address=address,
        member=member,
        skill=skill,
        category=category,
        posted=posted,
        starts=starts,
        minutes=rng.choice((45, 60, 90, 120, 180)),
        price=rng.randrange(4900, 24900, 500),
        fate=fate,
        by_offer=not busy and rng.random() < 0.35,
        stars=stars,
        member_stars=rng.choice((5, 5, 4)) if rng.random() < 0.6 else None,
        reviewed=rng.random() < 0.85,
        after=[rng.uniform(1, 30) for _ in range(4)],
        backup=rng.choice(backups) if backups else None,
        variant=rng.getrandbits(32),
    )


# --- steps -----------------------------------------------------------------------------------


class JobSteps:
    """The steps of each planned job, queued on the replay at their instants."""

    def __init__(self, cast: Cast, replay: Replay, rng: random.Random) -> None:
        self.cast, self.replay, self.rng = cast, replay, rng

    @property
    def staff(self):
        return self.cast.staff[0]

    def queue(self, plan: JobPlan) -> None:
        at = self.replay.at
        h = plan.after
        at(plan.posted, lambda: self._post(plan))
        times = timing(plan)
        if plan.by_offer or plan.fate == "cancelled_open":
            at(plan.posted + times["offers"], lambda: self._send_offers(plan))
        if plan.fate == "cancelled_open":
            at(plan.posted + timedelta(hours=h[0] / 3), lambda: self._cancel(plan, staff=False))
            return
        if plan.by_offer:
            at(plan.posted + timedelta(minutes=20 + 5 * h[0]), lambda: self._take(plan))
        if plan.fate == "cancelled_assigned":
            at(plan.starts - timedelta(hours=h[1] * 2), lambda: self._cancel(plan, staff=False))
            return
        if plan.fate == "cancelled_staff":
            at(plan.starts - timedelta(hours=h[1]), lambda: self._cancel(plan, staff=True))
            return
        if plan.fate == "withdrawn":
            at(plan.posted + timedelta(hours=h[1] / 2), lambda: self._withdraw(plan))
            at(plan.posted + timedelta(hours=h[1] / 2 + 3), lambda: self._reassign(plan))
        end = plan.starts + timedelta(minutes=plan.minutes + 10)
        at(plan.starts, lambda: self._start(plan))
        at(end, lambda: self._complete(plan))
        if plan.fate == "disputed":
            opened = end + timedelta(hours=h[2])
            at(opened, lambda: self._dispute(plan))
            at(opened + times["reply"] / 2, lambda: self._take_ticket(plan))
            at(opened + times["reply"], lambda: self._first_reply(plan))
            at(opened + times["settle"], lambda: self._settle(plan))
            return
        if plan.fate == "confirmed":
            at(end + timedelta(hours=h[2]), lambda: self._confirm(plan))
        if plan.reviewed and plan.fate == "confirmed":
            at(end + timedelta(hours=h[2] + h[3]), lambda: self._review(plan, "customer"))
        if plan.member_stars is not None:
            at(end + timedelta(hours=h[0]), lambda: self._review(plan, "member"))

    def _job(self, plan: JobPlan) -> Job | None:
        return db.session.get(Job, plan.job_id) if plan.job_id is not None else None

    def _post(self, plan: JobPlan) -> None:
        starts = plan.starts
        _, country, city = plan.address
        job = post_job(
            actor=plan.customer.principal,
            category=plan.category,
            skills=[plan.skill],
            title=_title(plan.skill),
            description=f"Bitte Hilfe bei: {_title(plan.skill)} in {city}.",
            device={"notes": "Details telefonisch"},
            windows=[{"starts_at": starts, "ends_at": starts + timedelta(hours=4)}],
            duration_minutes=plan.minutes,
            pricing={"kind": "fixed", "amount": plan.price},
            currency=CURRENCY[country],
            address_id=plan.address[0],
        )
        db.session.flush()
        plan.job_id = job.id
        if not plan.by_offer and plan.fate != "cancelled_open":
            self._assign(plan, plan.member)
        else:
            held_jobs.add(job.id)  # its first wave waits for _send_offers

    def _send_offers(self, plan: JobPlan) -> None:
        """The job's first wave goes out now, some minutes after posting."""
        held_jobs.discard(plan.job_id)
        job = self._job(plan)
        if job is not None:
            request_dispatch(job)

    def _assign(self, plan: JobPlan, member: CastMember) -> None:
        assign_member(
            actor=self.staff,
            job_id=plan.job_id,
            member_id=member.id,
            override=True,
            reason="Booked with the member by phone",
        )

    def _take(self, plan: JobPlan) -> None:
        """A member accepts a pending offer of the job; without one, staff assign the member."""
        offer = db.session.scalar(
            select(Offer)
            .where(Offer.job_id == plan.job_id, Offer.status == "pending")
            .order_by(Offer.score.desc(), Offer.id)
        )
        job = self._job(plan)
        if job is None or job.status not in ("open", "offered"):
            return
        if offer is not None:
            accept_offer(actor=self.cast.member_principal(offer.member_id), offer_id=offer.id)
        else:
            self._assign(plan, plan.member)

    def _member(self, plan: JobPlan):
        job = self._job(plan)
        if job is None or job.assigned_member_id is None:
            return None, None
        return job, self.cast.member_principal(job.assigned_member_id)

    def _start(self, plan: JobPlan) -> None:
        job, member = self._member(plan)
        if job is not None and job.status == "assigned":
            start_job(actor=member, job_id=job.id)

    def _complete(self, plan: JobPlan) -> None:
        job, member = self._member(plan)
        if job is not None and job.status == "in_progress":
            complete_job(
                actor=member,
                job_id=job.id,
                notes="Erledigt, Funktion mit dem Kunden geprüft.",
                minutes_spent=plan.minutes,
            )

    def _confirm(self, plan: JobPlan) -> None:
        job = self._job(plan)
        if job is not None and job.status == "completed":
            confirm_job(actor=plan.customer.principal, job_id=job.id)

    def _review(self, plan: JobPlan, side: str) -> None:
        job, member = self._member(plan)
        if job is None or job.status not in ("completed", "confirmed", "closed"):
            return
        if side == "customer":
            comment = CUSTOMER_COMMENTS[plan.variant % len(CUSTOMER_COMMENTS)]
            submit_review(
                actor=plan.customer.principal, job_id=job.id, stars=plan.stars, comment=comment
            )
        else:
            comment = MEMBER_COMMENTS[plan.variant % len(MEMBER_COMMENTS)]
            submit_review(actor=member, job_id=job.id, stars=plan.member_stars, comment=comment)

    def _cancel(self, plan: JobPlan, *, staff: bool) -> None:
        job = self._job(plan)
        if job is None or job.status not in ("open", "offered", "assigned"):
            return
        reason = CANCEL_REASONS[plan.variant % len(CANCEL_REASONS)]
        actor = self.staff if staff else plan.customer.principal
        cancel_job(actor=actor, job_id=job.id, reason=reason)

    def _withdraw(self, plan: JobPlan) -> None:
        job, member = self._member(plan)
        if job is not None and job.status == "assigned":
            withdraw_job(actor=member, job_id=job.id, reason="Sick, cannot make it")

    def _reassign(self, plan: JobPlan) -> None:
        job = self._job(plan)
        if job is not None and job.status in ("open", "offered") and plan.backup is not None:
            self._assign(plan, plan.backup)

    def _dispute(self, plan: JobPlan) -> None:
        job = self._job(plan)
        if job is not None and job.status in ("completed", "confirmed"):
            reason = DISPUTE_REASONS[plan.variant % len(DISPUTE_REASONS)]
            dispute_job(actor=plan.customer.principal, job_id=job.id, reason=reason)

    def _ticket(self, plan: JobPlan) -> Ticket | None:
        return db.session.scalar(
            select(Ticket).where(Ticket.job_id == plan.job_id, Ticket.dispute.is_(True))
        )

    def _take_ticket(self, plan: JobPlan) -> None:
        ticket = self._ticket(plan)
        if ticket is not None and ticket.status == "new":
            take_ticket(actor=self.staff, ticket_id=ticket.id, assignee_id=self.staff.user_id)

    def _first_reply(self, plan: JobPlan) -> None:
        """The community manager's first answer to both parties (the SLA's first response)."""
        ticket = self._ticket(plan)
        if ticket is None or ticket.status in ("resolved", "closed"):
            return
        reply = FIRST_REPLIES[plan.variant % len(FIRST_REPLIES)]
        post_message(actor=self.staff, ticket_id=ticket.id, body=reply, visibility="parties")

    def _settle(self, plan: JobPlan) -> None:
        ticket = self._ticket(plan)
        if ticket is None or ticket.status in ("resolved", "closed"):
            return
        if db.session.scalar(select(Resolution.id).where(Resolution.ticket_id == ticket.id)):
            return
        kind = _weighted(random.Random(plan.variant), RESOLUTIONS)
        amounts = {
            "partial_refund": {"refund_amount": plan.price // 4},
            "split": {"customer_share_percent": 50},
        }.get(kind, {})
        resolution = propose(
            actor=self.staff,
            ticket_id=ticket.id,
            kind=kind,
            note="Settled after talking to both sides.",
            member_at_fault=kind != "release",
            **amounts,
        )
        impose(actor=self.staff, ticket_id=ticket.id, resolution_id=resolution.id)


# Jobs whose first wave the replay holds back until their planned offer time.
held_jobs: set[int] = set()


def _held(job: Job) -> str | None:
    return HELD if job.id in held_jobs else None


@contextmanager
def offers_after_posting() -> Iterator[None]:
    """While the history replays, a job's first wave waits for its `_send_offers` step (a
    dispatch gate: as if matching took a few minutes)."""
    held_jobs.clear()
    add_dispatch_gate(_held)
    try:
        yield
    finally:
        DISPATCH_GATES.remove(_held)
        held_jobs.clear()


def _title(skill: str) -> str:
    return skill.replace("_", " ").capitalize()
