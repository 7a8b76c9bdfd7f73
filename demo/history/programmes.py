"""The programmes' history, replayed through their services at the demo clock's instants.

- Mentors: a few eligible Seniors and Experts opt in early; new Starters get one of them soon
  after their admission (the mentor claims them, or a community manager pairs them and the
  mentor accepts; one proposal is declined and the matching finds someone else). Mentors log
  calls, chats and ride-alongs; mentees rate some of them; one mentee ends the mentorship;
  mentees who reach the figures graduate through the daily sweep.
- Events: a meetup some six weeks ago (invitations to mentors and top performers, replies,
  attendance marked afterwards) and a trade fair ahead (invited, some replies in).
- Broadcasts: a newsletter to Seniors and Experts and an announcement to the mentors, each
  read by part of their recipients over the following days.
- Help centre: readers say whether an article helped, now and then with a comment.
- Topic groups: the groups open at the start; members write threads and replies over the
  months.

Everything is planned from the random source here; what depends on earlier steps (who was
invited, who received a broadcast) is read when its step runs and followed by steps queued
then, each drawn from its own seeded random source (same seed, same history).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from community.models import GroupMembership, TopicGroup, TopicPost
from community.posts import create_thread, reply
from crowd.extensions import db
from demo.community import seed_topic_groups
from demo.helpcentre import ARTICLES
from demo.history.cast import Cast, CastMember
from demo.history.replay import Replay
from helpcentre.feedback import give_feedback
from members.models import Member
from mentoring.broadcasts.service import create_broadcast, mark_read, send_broadcast
from mentoring.events.invitations import invite, list_eligible, mark_attendance
from mentoring.events.rsvp import rsvp
from mentoring.events.service import create_event, publish_event
from mentoring.mentors.assignment import claim, staff_assign
from mentoring.mentors.eligibility import eligible_member_ids
from mentoring.mentors.lifecycle import accept, decline, end
from mentoring.mentors.profiles import opt_in
from mentoring.mentors.sessions import give_feedback as rate_session
from mentoring.mentors.sessions import log_session
from mentoring.models import BroadcastRecipient, EventInvitation, Mentorship

MENTOR_CAPACITY = 4
SESSION_NOTES = (
    "Went through the first offers together; explained how to read a job's windows.",
    "Talked about pricing extra work on site and when to call the CM.",
    "Ride-along on a wall mount: anchors, cable duct, explaining the result to the customer.",
    "Reviewed the first customer ratings; tips for the work report photos.",
    "Planned the next skill test together.",
)
SESSION_FEEDBACK = (
    "Very helpful, thank you!",
    "Clear tips, I feel much more confident now.",
    "Good call, would have liked a bit more time.",
    "Riding along was the best part.",
)
HELP_COMMENTS = (
    "Clear and short, thanks.",
    "Would be great with a photo of the form.",
    "Exactly what I needed before my first job.",
    "Still unsure what happens on a public holiday.",
)
THREADS = {
    "tv-wall-mounting": (
        ("Hollow walls in old buildings", "Plaster over wooden laths: what holds a 55-inch TV?"),
        ("Customer wants the TV above the fireplace", "How do you talk them out of it – or not?"),
        ("Soundbar brackets", "Which brackets fit both TV and soundbar without drilling twice?"),
    ),
    "berlin-crowd": (
        ("Lending a laser level", "Mine is free most weekdays – anyone in Neukölln need one?"),
        ("S-Bahn strike tomorrow", "How do you get to your jobs? Car sharing or bike?"),
    ),
    "experts-lounge": (
        ("Multi-room audio setups", "Which systems do customers ask for most this year?"),
        ("Mentoring new Starters", "What do you show them first on a ride-along?"),
    ),
}
REPLIES = (
    "Good question – I had the same last week.",
    "Toggle bolts and a wooden batten behind; never failed me.",
    "Ask the customer for a photo of the wall before you go.",
    "I'd call the CM before promising anything there.",
    "Count me in, send me a message.",
    "Thanks, that helped on my job today!",
    "Depends on the wall: test-drill first, then decide.",
)


@dataclass
class Pairing:
    mentor: CastMember
    mentee: CastMember
    at: datetime
    way: str  # claim, staff, declined
    accept_after: timedelta
    # (when, kind, minutes, the mentee's rating or None)
    sessions: list[tuple[datetime, str, int, int | None]] = field(default_factory=list)
    ended_at: datetime | None = None
    mentorship_id: int | None = None


def queue_programmes(
    rng: random.Random, cast: Cast, replay: Replay, start: datetime, now: datetime
) -> None:
    """Queue the programme steps on the replay (planned now, from `rng`)."""
    if not cast.staff or not cast.members:
        return
    Programmes(rng, cast, replay, start, now).queue()


class Programmes:
    def __init__(self, rng, cast: Cast, replay: Replay, start: datetime, now: datetime):
        self.rng, self.cast, self.replay, self.start, self.now = rng, cast, replay, start, now
        self.staff = cast.staff[0]

    def at(self, when: datetime, step: Callable[[], None]) -> None:
        self.replay.at(when, step)

    def _random(self) -> random.Random:
        """A random source of its own for what a step decides when it runs."""
        return random.Random(self.rng.getrandbits(64))

    def queue(self) -> None:
        self._topic_groups()
        self._mentoring()
        self._events()
        self._broadcasts()
        self._help_centre()

    # --- topic groups ----------------------------------------------------------------------

    def _topic_groups(self) -> None:
        opened = self.start + timedelta(hours=6)
        cm_id = self.staff.user_id
        threads_until = opened + timedelta(days=3, hours=3)
        self.at(opened, lambda: seed_topic_groups(cm_id, threads_until, joined=opened))
        posts = max(12, len(self.cast.members) // 8)
        span = (self.now - opened - timedelta(days=4)).total_seconds()
        for _ in range(posts):
            when = opened + timedelta(days=4, seconds=self.rng.uniform(0, span))
            slug = self.rng.choice(sorted(THREADS))
            new = self.rng.random() < 0.3
            self.at(when, self._post_step(slug, new, self._random()))

    def _post_step(self, slug: str, new: bool, rng: random.Random) -> Callable[[], None]:
        def post() -> None:
            group_id = db.session.scalar(select(TopicGroup.id).where(TopicGroup.slug == slug))
            members = db.session.scalars(
                select(GroupMembership.member_id)
                .where(GroupMembership.group_id == group_id)
                .order_by(GroupMembership.member_id)
            ).all()
            threads = db.session.scalars(
                select(TopicPost.id)
                .where(TopicPost.group_id == group_id, TopicPost.parent_id.is_(None))
                .order_by(TopicPost.id)
            ).all()
            if not members:
                return
            author = self.cast.member_principal(rng.choice(members))
            if new or not threads:
                title, body = rng.choice(THREADS[slug])
                create_thread(actor=author, group_id=group_id, title=title, body=body)
            else:
                reply(actor=author, thread_id=rng.choice(threads[-4:]), body=rng.choice(REPLIES))

        return post

    # --- mentors and mentees ----------------------------------------------------------------

    def _mentoring(self) -> None:
        starters = [
            m
            for m in self.cast.members
            if m.level == 1
            and self.start - timedelta(days=60) <= m.approved_at < self.now - timedelta(days=5)
        ]
        seniors = [m for m in self.cast.members if m.level >= 3]
        eligible = eligible_member_ids([m.id for m in seniors])
        by_city: dict[tuple[str, str], int] = {}
        for starter in starters:
            by_city[(starter.country, starter.city)] = (
                by_city.get((starter.country, starter.city), 0) + 1
            )
        candidates = sorted(
            (m for m in seniors if m.id in eligible),
            key=lambda m: (-by_city.get((m.country, m.city), 0), m.city != "Berlin", m.id),
        )
        mentors = candidates[: max(2, round(len(self.cast.members) / 55))]
        opted: dict[int, datetime] = {}
        for mentor in mentors:
            opted[mentor.id] = self.start + timedelta(days=self.rng.uniform(1, 12))
            self.at(opted[mentor.id], self._opt_in_step(mentor))
        load = dict.fromkeys(opted, 0)
        pairings: list[Pairing] = []
        for starter in sorted(starters, key=lambda m: (m.approved_at, m.id)):
            local = [m for m in mentors if (m.country, m.city) == (starter.country, starter.city)]
            near = local or [m for m in mentors if m.country == starter.country]
            free = [m for m in near if load[m.id] < MENTOR_CAPACITY - 1]
            if not free or (not local and self.rng.random() < 0.6):
                continue
            mentor = free[0]
            load[mentor.id] += 1
            at = max(
                starter.approved_at + timedelta(days=self.rng.uniform(1, 3)),
                opted[mentor.id] + timedelta(hours=2),
            )
            way = self.rng.choice(("claim", "staff", "staff"))
            if way == "staff" and len(pairings) == 2:
                way = "declined"
                load[mentor.id] -= 1
            pairings.append(
                Pairing(mentor, starter, at, way, timedelta(hours=self.rng.uniform(3, 40)))
            )
        for number, pairing in enumerate(pairings):
            self._plan_sessions(pairing, ends=number == 4)
            self._queue_pairing(pairing)

    def _plan_sessions(self, pairing: Pairing, *, ends: bool) -> None:
        when = pairing.at + pairing.accept_after + timedelta(days=self.rng.uniform(2, 5))
        while when < self.now:
            kind = self.rng.choice(("call", "call", "chat", "ride_along"))
            minutes = self.rng.choice((20, 30, 45, 90 if kind == "ride_along" else 30))
            rating = self.rng.choice((5, 5, 4)) if self.rng.random() < 0.6 else None
            pairing.sessions.append((when, kind, minutes, rating))
            if ends and len(pairing.sessions) == 3:
                pairing.ended_at = when + timedelta(days=self.rng.uniform(3, 8))
                return
            when += timedelta(days=self.rng.uniform(8, 20))

    def _opt_in_step(self, mentor: CastMember) -> Callable[[], None]:
        def step() -> None:
            opt_in(
                actor=self.cast.member_principal(mentor.id),
                capacity=MENTOR_CAPACITY,
                skills=sorted({slug for slug, _ in mentor.skills})[:4],
                countries=[mentor.country],
                max_distance_km=60,
                bio="Happy to help new members with their first jobs.",
            )

        return step

    def _queue_pairing(self, pairing: Pairing) -> None:
        self.at(pairing.at, lambda: self._pair(pairing))
        if pairing.way != "claim":
            self.at(pairing.at + pairing.accept_after, lambda: self._answer(pairing))
        for number, (when, kind, minutes, rating) in enumerate(pairing.sessions):
            note = SESSION_NOTES[number % len(SESSION_NOTES)]
            self.at(when, self._session_step(pairing, when, kind, minutes, rating, note))
        if pairing.ended_at is not None:
            self.at(pairing.ended_at, lambda: self._end(pairing))

    def _still_a_starter(self, member_id: int) -> bool:
        member = db.session.get(Member, member_id)
        taken = db.session.scalar(
            select(Mentorship.id).where(
                Mentorship.mentee_id == member_id,
                Mentorship.status.in_(("proposed", "active", "graduated")),
            )
        )
        return member.status == "active" and member.level_rank == 1 and taken is None

    def _pair(self, pairing: Pairing) -> None:
        if not self._still_a_starter(pairing.mentee.id):
            return  # promoted (or paused) before a mentor came
        if pairing.way == "claim":
            actor = self.cast.member_principal(pairing.mentor.id)
            made = claim(actor=actor, mentee_id=pairing.mentee.id)
        else:
            made = staff_assign(
                actor=self.staff, mentee_id=pairing.mentee.id, mentor_id=pairing.mentor.id
            )
        pairing.mentorship_id = made["id"]

    def _mentorship(self, pairing: Pairing, status: str) -> Mentorship | None:
        if pairing.mentorship_id is None:
            return None
        mentorship = db.session.get(Mentorship, pairing.mentorship_id)
        return mentorship if mentorship.status == status else None

    def _answer(self, pairing: Pairing) -> None:
        mentorship = self._mentorship(pairing, "proposed")
        if mentorship is None:
            return
        actor = self.cast.member_principal(pairing.mentor.id)
        if pairing.way == "declined":
            # The mentee is matched with someone else (task mentoring.assign_mentor).
            decline(actor=actor, mentorship_id=mentorship.id, reason="No time this month")
        else:
            accept(actor=actor, mentorship_id=mentorship.id)

    def _session_step(self, pairing, when, kind, minutes, rating, note) -> Callable[[], None]:
        def step() -> None:
            mentorship = self._mentorship(pairing, "active")
            if mentorship is None:
                return  # graduated, ended or never accepted
            logged = log_session(
                actor=self.cast.member_principal(pairing.mentor.id),
                mentorship_id=mentorship.id,
                kind=kind,
                occurred_at=when - timedelta(minutes=minutes),
                duration_minutes=minutes,
                mentor_notes=note,
            )
            if rating is not None:
                later = when + timedelta(hours=20)
                self.at(later, lambda: self._rate(pairing, logged["id"], rating, note))

        return step

    def _rate(self, pairing: Pairing, session_id: int, rating: int, note: str) -> None:
        if pairing.mentorship_id is None:
            return
        rate_session(
            actor=self.cast.member_principal(pairing.mentee.id),
            mentorship_id=pairing.mentorship_id,
            session_id=session_id,
            feedback=SESSION_FEEDBACK[SESSION_NOTES.index(note) % len(SESSION_FEEDBACK)],
            rating=rating,
        )

    def _end(self, pairing: Pairing) -> None:
        mentorship = self._mentorship(pairing, "active")
        if mentorship is not None:
            end(
                actor=self.cast.member_principal(pairing.mentee.id),
                mentorship_id=mentorship.id,
                reason="I found my feet, thanks for the help.",
            )

    # --- events ----------------------------------------------------------------------------

    def _events(self) -> None:
        berlin = ("Kulturbrauerei, Schönhauser Allee 36", "Berlin", "DE", 52.539, 13.413)
        fair = ("Messe Köln, Halle 7", "Köln", "DE", 50.947, 6.983)
        past = (self.now - timedelta(days=42)).replace(hour=17, minute=0, second=0, microsecond=0)
        ahead = (self.now + timedelta(days=19)).replace(hour=9, minute=0, second=0, microsecond=0)
        self._event(
            "meetup",
            "Crowd meetup: mentors and top performers",
            "An evening with the people who carry the crowd: stories, tips, food.",
            past,
            timedelta(hours=4),
            berlin,
            created=past - timedelta(days=30),
        )
        self._event(
            "trade_fair",
            "Smart Home Expo: the crowd's stand",
            "Represent the crowd at our stand: live demos and questions from visitors.",
            ahead,
            timedelta(hours=9),
            fair,
            created=self.now - timedelta(days=6),  # invited four days ago: replies coming in
        )

    def _event(self, kind, title, description, starts, length, place, *, created) -> None:
        venue, city, country, lat, lon = place
        event: dict = {}
        rng = self._random()

        def create() -> None:
            made = create_event(
                actor=self.staff,
                kind=kind,
                title=title,
                description=description,
                starts_at=starts,
                ends_at=starts + length,
                venue=venue,
                city=city,
                country=country,
                lat=lat,
                lon=lon,
                capacity=40,
            )
            event["id"] = made["id"]
            publish_event(actor=self.staff, event_id=made["id"])

        def invite_all() -> None:
            list_eligible(actor=self.staff, event_id=event["id"])
            listed = db.session.scalars(
                select(EventInvitation.member_id)
                .where(EventInvitation.event_id == event["id"])
                .order_by(EventInvitation.member_id)
            ).all()
            if not listed:
                return
            invite(actor=self.staff, event_id=event["id"], member_ids=list(listed))
            invited_at = created + timedelta(days=2)
            for member_id in listed:
                answer = "accept" if rng.random() < 0.7 else "decline"
                when = invited_at + timedelta(hours=rng.uniform(2, 24 * 9))
                self.at(when, self._rsvp_step(event, member_id, answer))
            self.at(starts + length + timedelta(hours=15), mark)

        def mark() -> None:
            accepted = db.session.scalars(
                select(EventInvitation.member_id)
                .where(
                    EventInvitation.event_id == event["id"],
                    EventInvitation.status == "accepted",
                )
                .order_by(EventInvitation.member_id)
            ).all()
            came = [m for m in accepted if rng.random() < 0.85]
            missed = [m for m in accepted if m not in came]
            mark_attendance(actor=self.staff, event_id=event["id"], attended=came, no_show=missed)

        self.at(created, create)
        self.at(created + timedelta(days=2), invite_all)

    def _rsvp_step(self, event: dict, member_id: int, answer: str) -> Callable[[], None]:
        def step() -> None:
            invitation_id = db.session.scalar(
                select(EventInvitation.id).where(
                    EventInvitation.event_id == event["id"],
                    EventInvitation.member_id == member_id,
                    EventInvitation.status == "invited",
                )
            )
            if invitation_id is not None:
                rsvp(
                    actor=self.cast.member_principal(member_id),
                    invitation_id=invitation_id,
                    answer=answer,
                )

        return step

    # --- broadcasts ------------------------------------------------------------------------

    def _broadcasts(self) -> None:
        self._broadcast(
            self.now - timedelta(days=74),
            "newsletter",
            "Autumn newsletter for Seniors and Experts",
            "More expert jobs are coming: smart-home commissioning opens to Seniors next month. "
            "Become a mentor and help new members find their feet.",
            {"levels": [3, 4]},
            0.55,
        )
        self._broadcast(
            self.now - timedelta(days=18),
            "announcement",
            "Thank you, mentors",
            "Your mentees reached their first ratings faster than anyone else. The next mentor "
            "meetup is in planning; tell us what you would like to talk about.",
            {"programmes": ["mentor"]},
            0.8,
        )

    def _broadcast(self, when, kind, title, body, segment, share) -> None:
        sent: dict = {}
        rng = self._random()

        def send() -> None:
            made = create_broadcast(
                actor=self.staff, kind=kind, title=title, body=body, segment=segment
            )
            send_broadcast(actor=self.staff, broadcast_id=made["id"])
            sent["id"] = made["id"]

        def reads() -> None:
            # Delivered in the background right after the send was committed.
            recipients = db.session.scalars(
                select(BroadcastRecipient.member_id)
                .where(BroadcastRecipient.broadcast_id == sent["id"])
                .order_by(BroadcastRecipient.member_id)
            ).all()
            for member_id in recipients:
                if rng.random() < share:
                    later = when + timedelta(hours=1 + rng.expovariate(1 / 40))
                    self.at(later, self._read_step(sent["id"], member_id))

        self.at(when, send)
        self.at(when + timedelta(minutes=30), reads)

    def _read_step(self, broadcast_id: int, member_id: int) -> Callable[[], None]:
        return lambda: mark_read(
            actor=self.cast.member_principal(member_id), broadcast_id=broadcast_id
        )

    # --- help centre -----------------------------------------------------------------------

    def _help_centre(self) -> None:
        members, customers = self.cast.members, self.cast.customers
        for _ in range(max(15, len(members) // 6)):
            article = self.rng.choice(ARTICLES)
            published = self.now - timedelta(days=article.age_days)
            if article.audience == "customers":
                readers = [c.principal for c in customers]
            else:
                readers = [
                    self.cast.member_principal(m.id)
                    for m in members
                    if m.level >= (article.min_level_rank or 0)
                ]
            if not readers:
                continue
            actor = self.rng.choice(readers)
            when = published + timedelta(
                seconds=self.rng.uniform(3600, (self.now - published).total_seconds())
            )
            helpful = self.rng.random() < 0.8
            comment = self.rng.choice(HELP_COMMENTS) if self.rng.random() < 0.3 else None
            self.at(when, self._feedback_step(actor, article.slug, helpful, comment))

    @staticmethod
    def _feedback_step(actor, slug, helpful, comment) -> Callable[[], None]:
        return lambda: give_feedback(actor=actor, ref=slug, helpful=helpful, comment=comment)
