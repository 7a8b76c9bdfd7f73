"""Demo data: the skill catalogue, staff, named demo accounts and a realistic crowd.

`flask crowd seed-demo` calls `seed()`. The crowd is planned by pure functions driven by
`random.Random(seed)` (same seed, same crowd) and written in batches. Like a route or a task,
this is an edge of the application, so it commits (`crowd.core.db.commit`) itself.
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from collections.abc import Callable

import click
from sqlalchemy import select

from accounts import service as accounts
from accounts.models import User
from crowd.core.db import commit, utcnow
from crowd.extensions import db
from demo.billing import seed_billing
from demo.comms_console import seed_reported_posts
from demo.community import seed_topic_groups
from demo.customers import complete_named_customer, write_customers, write_preferences
from demo.dispatch_console import escalate_waiting_jobs
from demo.files import seed_files
from demo.helpcentre import seed_help_centre
from demo.history import seed_history
from demo.insight_console import rate_closed_tickets
from demo.members import complete_named_member, write_members
from demo.named_accounts import (
    ADMIN_EMAIL,
    CM_EMAILS,
    CUSTOMER_EMAIL,
    DEMO_PASSWORD,
    MEMBER_EMAIL,
    create_named_accounts,
    credentials,
    name_accounts_from_history,
    named_customer_plan,
    named_member_plan,
    refuse_partial_data,
)
from demo.onboarding import seed_onboarding_content
from demo.open_work import open_current_work
from demo.plans import (
    APPLICANT_STAGES,
    BULK_DOMAIN,
    CustomerPlan,
    MemberPlan,
    OnboardingPlan,
    plan_customer,
    plan_member,
    plan_onboarding,
)
from demo.recruitment import seed_recruitment
from demo.texts import TRAINING_MODULES
from members.models import Skill
from members.service import sync_catalogue
from notifications.delivery import sending_held
from onboarding.levels.defaults import DEFAULT_LEVELS

__all__ = [
    "ADMIN_EMAIL",
    "APPLICANT_STAGES",
    "BULK_DOMAIN",
    "CM_EMAILS",
    "CUSTOMER_EMAIL",
    "DEMO_PASSWORD",
    "MEMBER_EMAIL",
    "CustomerPlan",
    "MemberPlan",
    "OnboardingPlan",
    "plan_customer",
    "plan_member",
    "plan_onboarding",
    "seed",
    "seed_onboarding_content",
]


BATCH_SIZE = 200


def seed(
    *,
    members: int = 400,
    customers: int = 60,
    seed: int = 7,
    history: bool = True,
    echo: Callable = print,
) -> str:
    """Load the catalogue and a demo crowd of `members` members and `customers` customers.

    With `history`, six months of jobs and programme activity are replayed up to now
    (demo.history). The counts include the named demo accounts (mitglied@…, kunde@…).
    Running it again changes nothing: when the demo admin exists the data is reported as
    already present.
    """
    started = time.monotonic()
    new_skills = sync_catalogue()
    commit()
    echo(f"skill catalogue in place ({new_skills} new skills)")
    if db.session.scalar(select(User.id).where(User.email == ADMIN_EMAIL)) is not None:
        return "demo data already present\n" + credentials()
    refuse_partial_data()

    rng = random.Random(seed)
    now = utcnow()
    member_plans = [named_member_plan(rng, now)] + [
        plan_member(rng, i, now) for i in range(1, max(members, 1))
    ]
    customer_plans = [named_customer_plan(rng, now)] + [
        plan_customer(rng, i, now) for i in range(1, max(customers, 1))
    ]
    skill_ids = {slug: id_ for slug, id_ in db.session.execute(select(Skill.slug, Skill.id))}
    cm_id, shared_hash, named_member, named_customer = create_named_accounts(
        member_plans[0], customer_plans[0]
    )
    content = seed_onboarding_content(cm_id, now)
    seed_help_centre(cm_id, now)
    with click.progressbar(
        length=len(member_plans) + len(customer_plans), label="Seeding demo crowd", file=sys.stderr
    ) as bar:
        member_ids = [
            complete_named_member(named_member, member_plans[0], skill_ids, cm_id, content)
        ]
        bar.update(1)
        for batch in _batches(member_plans[1:]):
            member_ids += write_members(batch, shared_hash, skill_ids, cm_id, content)
            commit()
            bar.update(len(batch))
        customer_ids = [complete_named_customer(named_customer, customer_plans[0])]
        bar.update(1)
        for batch in _batches(customer_plans[1:]):
            customer_ids += write_customers(batch, shared_hash)
            commit()
            bar.update(len(batch))

    favourites, blocks = write_preferences(
        rng, customer_ids, customer_plans, list(zip(member_ids, member_plans, strict=True))
    )
    if not history:
        echo(seed_topic_groups(cm_id, now))  # with history, the groups open at its start
    echo(seed_recruitment(cm_id, now))
    if history:
        # The replay queues thousands of deliveries: the commit after it sends them at once,
        # not each of the replay's commits its few.
        with sending_held():
            echo(seed_history(seed=seed, cm_emails=CM_EMAILS, now=now, scale=members / 400))
    name_accounts_from_history()
    echo(seed_billing(now))
    if history:
        echo(open_current_work(CM_EMAILS[0], MEMBER_EMAIL))
        echo(escalate_waiting_jobs())
        echo(rate_closed_tickets(seed))
    echo(seed_reported_posts())  # the console's moderation queue
    echo(seed_files())
    # The admin comes last: it marks the demo data as complete (see the check above).
    accounts.create_staff(
        actor_id=None,
        email=ADMIN_EMAIL,
        password=DEMO_PASSWORD,
        display_name="Demo Admin",
        role="admin",
    )
    commit()
    return _summary(member_plans, customer_plans, favourites, blocks, time.monotonic() - started)


def _batches(plans: list) -> list[list]:
    return [plans[i : i + BATCH_SIZE] for i in range(0, len(plans), BATCH_SIZE)]


def _summary(
    members: list[MemberPlan],
    customers: list[CustomerPlan],
    favourites: int,
    blocks: int,
    seconds: float,
) -> str:
    statuses = Counter(p.status for p in members)
    countries = Counter(p.country for p in members)
    kinds = Counter(p.kind for p in members)
    addresses = sum(len(p.addresses) for p in customers)
    business = sum(p.kind == "business" for p in customers)
    skills = sum(len(p.skills) for p in members)
    names = {level["rank"]: level["name"] for level in DEFAULT_LEVELS}
    levels = Counter(p.level_rank for p in members if p.level_rank)
    stages = Counter(p.onboarding.stage for p in members if p.status == "applicant")
    trained = sum(len(p.onboarding.training) for p in members)
    lines = [
        f"Demo data loaded in {seconds:.1f} s:",
        f"  members    {len(members)} ({', '.join(f'{n} {s}' for s, n in statuses.most_common())}; "
        f"{kinds['professional']} professional, {kinds['private']} private) "
        f"in {len({p.city for p in members})} cities "
        f"({', '.join(f'{c} {n}' for c, n in sorted(countries.items()))}), {skills} skills",
        f"  customers  {len(customers)} ({business} business), {addresses} service addresses, "
        f"{favourites} favourites, {blocks} blocks",
        f"  levels     {', '.join(f'{levels[r]} {names[r]}' for r in sorted(levels))}; "
        f"applicants by step: {', '.join(f'{stages[s]} {s}' for s in APPLICANT_STAGES)}",
        f"  onboarding a skill test per skill, house rules v1, {len(TRAINING_MODULES)} training "
        f"modules ({trained} completions)",
        "  staff      1 admin, 2 community managers",
        credentials(),
    ]
    return "\n".join(lines)
