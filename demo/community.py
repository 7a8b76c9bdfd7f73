"""Demo topic groups: three groups with members who qualify, a few threads and replies.

Written straight through the models in one pass (a few hundred rows), counts set to match.
Running it again changes nothing: a group whose slug exists is left as it is.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from community.models import GroupMembership, ModerationAction, TopicGroup, TopicPost
from community.qualification import qualifying_member_ids
from crowd.core.db import commit
from crowd.extensions import db
from members.models import Member, Skill

# Members joined per group at most: enough to look alive, few enough to stay fast.
MEMBERS_PER_GROUP = 40

# slug, name, description, qualification, threads: (title, body, replies, pinned by the CM).
GROUPS = [
    (
        "tv-wall-mounting",
        "TV wall mounting",
        "Brackets, anchors, walls and hiding cables: what worked on your last jobs.",
        {"kind": "skill", "skill": "tv_wall_mount"},
        [
            (
                "How this group works",
                "Ask about real jobs, share what worked, keep customers' details out. "
                "Mentors and community managers moderate.",
                [],
                True,
            ),
            (
                "Anchors for aerated concrete?",
                "Customer wants a 65-inch TV on an aerated concrete wall. Which anchors do you "
                "trust for a full-motion bracket?",
                [
                    "Injection anchors with a sieve sleeve; let them cure overnight.",
                    "Or spread the load with a board across two studs if it is drywall in front.",
                ],
                False,
            ),
            (
                "Cable ducts customers actually like",
                "Paintable ducts got the best reactions so far. What do you use?",
                ["In-wall kits where the customer allows it – nothing beats no duct."],
                False,
            ),
        ],
    ),
    (
        "berlin-crowd",
        "Crowd in Berlin",
        "Members working in Berlin: parking, building access, tools to lend.",
        {"kind": "region", "country": "DE", "city": "Berlin"},
        [
            (
                "Parking permits for jobs in Mitte",
                "Has anyone got a trade parking permit for Mitte? Worth the fee?",
                ["Yes, if you have more than two jobs a week there.", "I go by cargo bike."],
                False,
            ),
        ],
    ),
    (
        "experts-lounge",
        "Experts' lounge",
        "Senior and Expert members compare notes on tricky jobs.",
        {"kind": "region", "country": "DE", "min_level_rank": 3},
        [
            (
                "Pricing a half-day smart-home setup",
                "How do you estimate a half-day job with hub, lights and thermostats?",
                ["Fixed price per device plus travel; customers like knowing up front."],
                False,
            ),
        ],
    ),
]


def seed_topic_groups(cm_id: int, now: datetime, *, joined: datetime | None = None) -> str:
    """Create the demo groups (skipping those that exist), their members (joined at `joined`,
    default `now`) and threads (the days before `now`)."""
    created = 0
    for slug, name, description, rules, threads in GROUPS:
        if db.session.scalar(select(TopicGroup.id).where(TopicGroup.slug == slug)) is not None:
            continue
        group = _group(slug, name, description, rules, cm_id)
        member_ids = qualifying_member_ids(group.id)[:MEMBERS_PER_GROUP]
        for member_id in member_ids:
            db.session.add(
                GroupMembership(group_id=group.id, member_id=member_id, joined_at=joined or now)
            )
        group.member_count = len(member_ids)
        authors = _user_ids(member_ids) or [cm_id]
        for number, (title, body, replies, pinned) in enumerate(threads):
            started = now - timedelta(days=len(threads) - number, hours=3)
            _thread(group, title, body, replies, pinned, authors, cm_id, started, number)
        created += 1
    commit()
    return f"topic groups: {created} new ({len(GROUPS)} in the demo)"


def _group(slug: str, name: str, description: str, rules: dict, cm_id: int) -> TopicGroup:
    rules = dict(rules)
    skill = rules.pop("skill", None)
    if skill is not None:
        rules["skill_id"] = db.session.scalar(select(Skill.id).where(Skill.slug == skill))
    group = TopicGroup(slug=slug, name=name, description=description, created_by_id=cm_id, **rules)
    db.session.add(group)
    db.session.flush()
    return group


def _user_ids(member_ids: list[int]) -> list[int]:
    if not member_ids:
        return []
    by_member = dict(
        db.session.execute(select(Member.id, Member.user_id).where(Member.id.in_(member_ids))).all()
    )
    return [by_member[m] for m in member_ids]


def _thread(
    group: TopicGroup,
    title: str,
    body: str,
    replies: list[str],
    pinned: bool,
    authors: list[int],
    cm_id: int,
    started: datetime,
    number: int,
) -> None:
    author = cm_id if pinned else authors[number % len(authors)]
    thread = TopicPost(
        group_id=group.id,
        author_user_id=author,
        title=title,
        body=body,
        created_at=started,
        pinned=pinned,
        reply_count=len(replies),
        last_activity_at=started + timedelta(hours=len(replies)),
    )
    db.session.add(thread)
    db.session.flush()
    if pinned:
        db.session.add(
            ModerationAction(
                group_id=group.id, post_id=thread.id, action="pin", actor_user_id=cm_id
            )
        )
    for offset, text in enumerate(replies, start=1):
        db.session.add(
            TopicPost(
                group_id=group.id,
                parent_id=thread.id,
                author_user_id=authors[(number + offset) % len(authors)],
                body=text,
                created_at=started + timedelta(hours=offset),
                last_activity_at=started + timedelta(hours=offset),
            )
        )
