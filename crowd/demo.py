"""Demo data: the skill catalogue, staff, named demo accounts and a realistic crowd.

`flask crowd seed-demo` calls `seed()`. The crowd is planned by pure functions driven by
`random.Random(seed)` (same seed, same crowd) and written in batches. Like a route or a task,
this is an edge of the application, so it commits (`crowd.core.db.commit`) itself.
"""

from __future__ import annotations

import math
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import click
from sqlalchemy import func, select

from crowd.accounts import service as accounts
from crowd.accounts.models import User
from crowd.core.db import commit, utcnow
from crowd.core.errors import DomainError
from crowd.customers.models import BlockedMember, Customer, CustomerAddress, FavouriteMember
from crowd.demo_places import CITIES, FIRST_NAMES, LAST_NAMES, STREETS
from crowd.extensions import db
from crowd.members.catalogue import CATEGORIES
from crowd.members.models import (
    AvailabilitySlot,
    Member,
    MemberSkill,
    MemberStats,
    MemberStatusChange,
    Skill,
)
from crowd.members.service import RESPONSE_WINDOW, sync_catalogue

DEMO_PASSWORD = "crowd-demo-2026"
ADMIN_EMAIL = "admin@crowd.example"
CM_EMAILS = ("cm1@crowd.example", "cm2@crowd.example")
CUSTOMER_EMAIL = "kunde@crowd.example"
MEMBER_EMAIL = "mitglied@crowd.example"
# Bulk demo users live under their own domain, so an interrupted run can be recognised.
BULK_DOMAIN = "demo.crowd.example"

BATCH_SIZE = 200
JITTER_KM = 8.0
KM_PER_DEGREE = 111.32

# How likely each category is to be a member's main line of work.
_CATEGORY_WEIGHTS = {
    "private": {
        "tv_audio": 22,
        "smart_home": 18,
        "pc_network": 22,
        "phones_tablets": 20,
        "gaming_consoles": 10,
        "printers_office": 8,
        "household_appliances": 3,
        "security_cameras": 3,
        "e_mobility": 1,
        "solar_storage": 1,
    },
    "professional": {
        "tv_audio": 14,
        "smart_home": 14,
        "pc_network": 14,
        "phones_tablets": 6,
        "household_appliances": 14,
        "security_cameras": 10,
        "e_mobility": 10,
        "solar_storage": 8,
        "printers_office": 6,
        "gaming_consoles": 4,
    },
}
_TRADE_NAMES = {
    "tv_audio": ("TV- & Medientechnik", "SAT- und Antennenservice", "Medienservice"),
    "smart_home": ("Smart Home Service", "Gebäudeautomation"),
    "pc_network": ("IT-Service", "Computerservice", "Netzwerktechnik"),
    "phones_tablets": ("Handy-Reparatur", "Mobilfunkservice"),
    "household_appliances": ("Hausgeräte-Kundendienst", "Elektro"),
    "gaming_consoles": ("Konsolen-Service",),
    "security_cameras": ("Sicherheitstechnik",),
    "printers_office": ("Bürotechnik",),
    "e_mobility": ("Elektrotechnik", "E-Mobilität"),
    "solar_storage": ("Solartechnik", "Energietechnik"),
}
_LEGAL_FORMS = {
    "DE": ("", " GmbH", " e.K.", " UG"),
    "AT": ("", " GmbH", " e.U."),
    "CH": ("", " GmbH", " AG"),
}
_PRIVATE_BIOS = (
    "Technikbegeistert und geduldig – ich erkläre gern Schritt für Schritt.",
    "Helfe nach Feierabend und am Wochenende rund um {category}.",
    "Studium der Elektrotechnik, viel Erfahrung mit {category}.",
    "Seit Jahren die erste Anlaufstelle in Familie und Nachbarschaft für {category}.",
)
_PRO_BIOS = (
    "Meisterbetrieb für {category} seit {year}.",
    "Fachbetrieb für {category}, schnell vor Ort und mit Rechnung.",
    "Über {years} Jahre Berufserfahrung in {category}.",
)
_COMPANY_PATTERNS = (
    "{last} Immobilien GmbH",
    "Hausverwaltung {last}",
    "Praxis Dr. {last}",
    "Kanzlei {last} & {last2}",
    "Hotel {hotel}",
    "Café {first}",
    "{last} Steuerberatung",
)
_PAUSE_REASONS = ("member asked for a break", "parental leave", "away for several weeks")
_BLOCK_REASONS = (
    "Termin nicht eingehalten",
    "Unfreundlich am Telefon",
    "Arbeit unsauber ausgeführt",
)


@dataclass
class MemberPlan:
    """Everything about one demo member, drawn from the random source before any writing."""

    email: str
    display_name: str
    kind: str
    phone: str
    business_name: str | None
    bio: str | None
    lat: float
    lon: float
    postcode: str
    city: str
    country: str
    service_radius_km: int
    max_concurrent_jobs: int
    status: str
    level_rank: int
    joined: datetime
    status_changed: datetime
    # (skill slug, proficiency, verified, verified_at)
    skills: list[tuple[str, int, bool, datetime | None]]
    # (weekday 0=Monday, start minute, end minute)
    slots: list[tuple[int, int, int]]
    stats: dict
    # (from status, to status, reason, when, changed by: "self" or "cm")
    history: list[tuple[str | None, str, str, datetime, str]] = field(default_factory=list)


@dataclass
class CustomerPlan:
    email: str
    display_name: str
    kind: str
    company_name: str | None
    phone: str
    joined: datetime
    # (label, street, postcode, city, country, lat, lon)
    addresses: list[tuple[str, str, str, str, str, float, float]]


def seed(*, members: int = 400, customers: int = 60, seed: int = 7, echo: Callable = print) -> str:
    """Load the catalogue and a demo crowd of `members` members and `customers` customers.

    The counts include the named demo accounts (mitglied@…, kunde@…). Running it again
    changes nothing: when the demo admin exists the data is reported as already present.
    """
    started = time.monotonic()
    new_skills = sync_catalogue()
    commit()
    echo(f"skill catalogue in place ({new_skills} new skills)")
    if db.session.scalar(select(User.id).where(User.email == ADMIN_EMAIL)) is not None:
        return "demo data already present\n" + _credentials()
    _refuse_partial_data()

    rng = random.Random(seed)
    now = utcnow()
    member_plans = [_named_member_plan(rng, now)] + [
        plan_member(rng, i, now) for i in range(1, max(members, 1))
    ]
    customer_plans = [_named_customer_plan(rng, now)] + [
        plan_customer(rng, i, now) for i in range(1, max(customers, 1))
    ]
    skill_ids = {slug: id_ for slug, id_ in db.session.execute(select(Skill.slug, Skill.id))}
    cm_id, shared_hash, named_member, named_customer = _create_named_accounts(
        member_plans[0], customer_plans[0]
    )
    with click.progressbar(
        length=len(member_plans) + len(customer_plans), label="Seeding demo crowd", file=sys.stderr
    ) as bar:
        member_ids = [_complete_named_member(named_member, member_plans[0], skill_ids, cm_id)]
        bar.update(1)
        for batch in _batches(member_plans[1:]):
            member_ids += _write_members(batch, shared_hash, skill_ids, cm_id)
            commit()
            bar.update(len(batch))
        customer_ids = [_complete_named_customer(named_customer, customer_plans[0])]
        bar.update(1)
        for batch in _batches(customer_plans[1:]):
            customer_ids += _write_customers(batch, shared_hash)
            commit()
            bar.update(len(batch))

    favourites, blocks = _write_preferences(
        rng, customer_ids, customer_plans, list(zip(member_ids, member_plans, strict=True))
    )
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


def _create_named_accounts(
    member_plan: MemberPlan, customer_plan: CustomerPlan
) -> tuple[int, str, User, User]:
    """The CMs, demo member and demo customer, through the account services like real sign-ups.

    Returns the first CM's id, the password hash to share, the member's and customer's users.
    """
    try:
        managers = [
            accounts.create_staff(
                actor_id=None,
                email=email,
                password=DEMO_PASSWORD,
                display_name=name,
                role="community_manager",
            )
            for email, name in zip(CM_EMAILS, ("Katrin Berger", "Jonas Albrecht"), strict=True)
        ]
        member = accounts.register_member(
            email=MEMBER_EMAIL,
            password=DEMO_PASSWORD,
            display_name=member_plan.display_name,
            kind=member_plan.kind,
            phone=member_plan.phone,
            postcode=member_plan.postcode,
            city=member_plan.city,
            country=member_plan.country,
        )
        customer = accounts.register_customer(
            email=CUSTOMER_EMAIL,
            password=DEMO_PASSWORD,
            display_name=customer_plan.display_name,
            phone=customer_plan.phone,
        )
    except DomainError as error:
        raise click.ClickException(f"cannot create the demo accounts: {error.detail}") from None
    db.session.flush()
    # argon2 is slow on purpose (50–130 ms a hash): hashing for each of 400+ bulk users would
    # take 20–60 s. They all have the same password, so they share the hash the service just
    # made for the first CM (same algorithm and cost as the app's hasher, so sign-in works
    # unchanged). For demo data the shared salt does not matter; real accounts never share one.
    return managers[0].id, managers[0].password_hash, member, customer


def _batches(plans: list) -> list[list]:
    return [plans[i : i + BATCH_SIZE] for i in range(0, len(plans), BATCH_SIZE)]


# --- planning: pure functions of the random source ------------------------------------------


def plan_member(
    rng: random.Random,
    index: int,
    now: datetime,
    *,
    place: dict | None = None,
    kind: str | None = None,
    status: str | None = None,
    categories: list[dict] | None = None,
) -> MemberPlan:
    """One realistic crowd member: place, kind, skills, availability, status, history, stats.

    The keyword arguments pin what is otherwise drawn (used for the named demo member).
    """
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    place = place or _pick_city(rng)
    kind = kind or ("professional" if rng.random() < 0.35 else "private")
    status = status or rng.choices(("active", "applicant", "paused"), weights=(85, 9, 6))[0]
    categories = categories or _pick_categories(rng, kind)
    main_category = categories[0]
    lat, lon = _jitter(rng, place["lat"], place["lon"])
    level = 0 if status == "applicant" else rng.choices((1, 2, 3, 4), weights=(45, 30, 17, 8))[0]

    # Time line: joined → onboarded (active) → maybe paused. Busier members have been here
    # longer; the job count follows from the level, the tenure from the job count.
    jobs = _jobs_for_level(rng, level)
    if status == "applicant":
        joined = now - timedelta(days=rng.uniform(1, 30), minutes=rng.randint(0, 1439))
        activated = None
    else:
        per_day = rng.uniform(0.25, 1.0) if kind == "professional" else rng.uniform(0.08, 0.35)
        tenure = min(1400.0, jobs / per_day + rng.uniform(14, 60))
        activated = now - timedelta(days=tenure, minutes=rng.randint(0, 1439))
        joined = activated - timedelta(days=rng.uniform(3, 21))
    history: list[tuple[str | None, str, str, datetime, str]] = [
        (None, "applicant", "registered", joined, "self")
    ]
    changed = joined
    paused_at = None
    if activated is not None:
        history.append(("applicant", "active", "onboarding completed", activated, "cm"))
        changed = activated
    if status == "paused":
        days_active = (now - activated).total_seconds() / 86400
        paused_at = activated + timedelta(
            days=rng.uniform(min(30, days_active / 2), days_active - 1)
        )
        history.append(("active", "paused", rng.choice(_PAUSE_REASONS), paused_at, "self"))
        changed = paused_at

    verified_at = activated + timedelta(days=rng.uniform(0, 2)) if activated else None
    skills = _pick_skills(rng, kind, level, categories, verified_at)
    business_name = None
    if kind == "professional":
        trade = rng.choice(_TRADE_NAMES.get(main_category["slug"], ("Technikservice",)))
        if rng.random() < 0.7:
            business_name = f"{last} {trade}{rng.choice(_LEGAL_FORMS[place['country']])}"
        else:
            business_name = f"{trade} {place['city']}{rng.choice(('', ' GmbH'))}"
    return MemberPlan(
        email=f"{_ascii(first)}.{_ascii(last)}.m{index}@{BULK_DOMAIN}",
        display_name=f"{first} {last}",
        kind=kind,
        phone=_phone(rng, place["country"]),
        business_name=business_name,
        bio=_bio(rng, kind, main_category["name_de"], now) if rng.random() < 0.75 else None,
        lat=lat,
        lon=lon,
        postcode=place["postcode"],
        city=place["city"],
        country=place["country"],
        service_radius_km=rng.randint(20, 60) if kind == "professional" else rng.randint(10, 30),
        max_concurrent_jobs=rng.randint(2, 4) if kind == "professional" else rng.randint(1, 2),
        status=status,
        level_rank=level,
        joined=joined,
        status_changed=changed,
        skills=skills,
        slots=_pick_slots(rng, kind),
        stats=_plan_stats(rng, kind, jobs, status, now, paused_at),
        history=history,
    )


def plan_customer(rng: random.Random, index: int, now: datetime) -> CustomerPlan:
    """A customer: a person, or (≈20 %) a business, with one or two service addresses."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    business = rng.random() < 0.2
    place = _pick_city(rng)
    company_name = None
    if business:
        company_name = rng.choice(_COMPANY_PATTERNS).format(
            first=first,
            last=last,
            last2=rng.choice(LAST_NAMES),
            hotel=rng.choice(("Lindenhof", "zur Post", "Sonnenhof", "am Markt", place["city"])),
        )
    labels = ("Büro", f"Filiale {place['city']}") if business else ("Zuhause", "Ferienwohnung")
    addresses = [_address(rng, labels[0], place)]
    if rng.random() < 0.35:
        second = place if rng.random() < 0.6 else _pick_city(rng)
        label = labels[1] if business or second is not place else rng.choice(("Büro", "Eltern"))
        addresses.append(_address(rng, label, second))
    return CustomerPlan(
        email=f"{_ascii(first)}.{_ascii(last)}.k{index}@{BULK_DOMAIN}",
        display_name=f"{first} {last}",
        kind="business" if business else "person",
        company_name=company_name,
        phone=_phone(rng, place["country"]),
        joined=now - timedelta(days=rng.uniform(1, 700)),
        addresses=addresses,
    )


def _named_member_plan(rng: random.Random, now: datetime) -> MemberPlan:
    """mitglied@crowd.example: an active private member in Berlin with TV and smart-home skills."""
    plan = plan_member(
        rng,
        0,
        now,
        place=_city("Berlin"),
        kind="private",
        status="active",
        categories=[_category("tv_audio"), _category("smart_home")],
    )
    plan.email, plan.display_name = MEMBER_EMAIL, "Max Mustermann"
    return plan


def _named_customer_plan(rng: random.Random, now: datetime) -> CustomerPlan:
    """kunde@crowd.example: a person in Berlin with a home address."""
    return CustomerPlan(
        email=CUSTOMER_EMAIL,
        display_name="Erika Mustermann",
        kind="person",
        company_name=None,
        phone=_phone(rng, "DE"),
        joined=now - timedelta(days=90),
        addresses=[_address(rng, "Zuhause", _city("Berlin"))],
    )


def _pick_city(rng: random.Random) -> dict:
    return rng.choices(CITIES, weights=[c["weight"] for c in CITIES])[0]


def _jitter(rng: random.Random, lat: float, lon: float) -> tuple[float, float]:
    """A point up to JITTER_KM from (lat, lon), uniform over the disc."""
    distance = JITTER_KM * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(bearing) / KM_PER_DEGREE
    dlon = distance * math.sin(bearing) / (KM_PER_DEGREE * math.cos(math.radians(lat)))
    return round(lat + dlat, 5), round(lon + dlon, 5)


def _city(name: str) -> dict:
    return next(c for c in CITIES if c["city"] == name)


def _category(slug: str) -> dict:
    return next(c for c in CATEGORIES if c["slug"] == slug)


def _pick_categories(rng: random.Random, kind: str) -> list[dict]:
    """A main category and, for about half the crowd, a second one."""
    weights = _CATEGORY_WEIGHTS[kind]
    pool = list(CATEGORIES)
    main = rng.choices(pool, weights=[weights.get(c["slug"], 5) for c in pool])[0]
    chosen = [main]
    if rng.random() < 0.5 and len(pool) > 1:
        rest = [c for c in pool if c is not main]
        chosen.append(rng.choices(rest, weights=[weights.get(c["slug"], 5) for c in rest])[0])
    return chosen


def _pick_skills(
    rng: random.Random, kind: str, level: int, categories: list[dict], verified_at: datetime | None
) -> list[tuple[str, int, bool, datetime | None]]:
    """2–6 skills from the given categories; safety-relevant ones mostly verified by a CM."""
    count = rng.choices((2, 3, 4, 5, 6), weights=(20, 28, 24, 16, 12))[0]
    main_share = count if len(categories) == 1 else max(1, math.ceil(count * rng.uniform(0.5, 0.8)))
    picked: list[tuple[dict, dict]] = []
    for category, wanted in zip(categories, (main_share, count - main_share), strict=False):
        skills = category["skills"]
        picked += [(category, s) for s in rng.sample(skills, min(wanted, len(skills)))]
    proficiency_weights = (15, 45, 40) if kind == "professional" else (45, 40, 15)
    result = []
    for category, skill in picked:
        proficiency = rng.choices((1, 2, 3), weights=proficiency_weights)[0]
        if level >= 3 and proficiency < 3 and rng.random() < 0.5:
            proficiency += 1
        verified = (
            category["requires_verification"] and verified_at is not None and rng.random() < 0.85
        )
        result.append((skill["slug"], proficiency, verified, verified_at if verified else None))
    return result


def _pick_slots(rng: random.Random, kind: str) -> list[tuple[int, int, int]]:
    """Weekly windows: weekdays 8–18 for professionals; evenings and weekends for side-giggers."""
    slots = []
    if kind == "professional":
        start = rng.choice((7 * 60, 7 * 60 + 30, 8 * 60, 8 * 60, 9 * 60))
        end = rng.choice((16 * 60, 17 * 60, 18 * 60, 18 * 60))
        slots += [(day, start, end) for day in range(5)]
        if rng.random() < 0.4:
            slots.append((5, 9 * 60, rng.choice((13 * 60, 14 * 60))))
        return slots
    for day in sorted(rng.sample(range(5), rng.randint(2, 4))):
        slots.append(
            (
                day,
                rng.choice((17 * 60, 17 * 60 + 30, 18 * 60, 18 * 60 + 30)),
                rng.choice((20 * 60, 21 * 60, 22 * 60)),
            )
        )
    if rng.random() < 0.7:
        slots.append((5, rng.choice((9 * 60, 10 * 60)), rng.choice((14 * 60, 16 * 60, 18 * 60))))
    if rng.random() < 0.4:
        slots.append((6, rng.choice((10 * 60, 11 * 60)), rng.choice((15 * 60, 16 * 60))))
    return slots


def _jobs_for_level(rng: random.Random, level: int) -> int:
    low, high = {0: (0, 0), 1: (0, 12), 2: (10, 45), 3: (40, 120), 4: (100, 260)}[level]
    return rng.randint(low, high)


def _plan_stats(
    rng: random.Random, kind: str, jobs: int, status: str, now: datetime, paused_at: datetime | None
) -> dict:
    """Counters that agree with each other the way the event handlers would have kept them.

    offers received ≥ accepted + declined; accepted ≥ completed + cancelled (the rest are jobs
    in progress); ratings for most completed jobs, averaging 3.8–5.0; the median response time
    is the median of the recent window, as crowd.members.service computes it.
    """
    if status == "applicant":
        return {"recent_response_seconds": []}
    cancelled = round(jobs * rng.uniform(0, 0.04))
    accepted = jobs + cancelled + (rng.randint(0, 2) if status == "active" else 0)
    rate = rng.uniform(0.35, 0.9)
    declined = round(accepted * (1 - rate) / rate)
    answered = accepted + declined
    received = answered + round(answered * rng.uniform(0.05, 0.3))
    rating_count = round(jobs * rng.uniform(0.55, 0.85))
    target = min(5.0, max(3.8, rng.gauss(4.65, 0.25)))
    rating_sum = min(
        5 * rating_count, max(math.ceil(3.8 * rating_count), round(target * rating_count))
    )
    typical = rng.uniform(45, 600) if kind == "professional" else rng.uniform(120, 1800)
    window = [
        max(5, int(typical * math.exp(rng.gauss(0, 0.6))))
        for _ in range(min(RESPONSE_WINDOW, answered))
    ]
    last_done = None
    if jobs:
        reference = paused_at or now
        last_done = reference - timedelta(days=rng.uniform(0.2, 20 if status == "active" else 10))
    taken = jobs + cancelled
    return {
        "offers_received": received,
        "offers_accepted": accepted,
        "offers_declined": declined,
        "jobs_completed": jobs,
        "jobs_cancelled": cancelled,
        "rating_count": rating_count,
        "rating_sum": rating_sum,
        # Derived exactly as crowd.members.service._refresh_rates derives them.
        "acceptance_rate": round(accepted / answered, 4) if answered else None,
        "cancellation_rate": round(cancelled / taken, 4) if taken else None,
        "average_rating": round(rating_sum / rating_count, 3) if rating_count else None,
        "median_response_seconds": int(statistics.median(window)) if window else None,
        "recent_response_seconds": window,
        "last_job_completed_at": last_done,
    }


def _address(rng: random.Random, label: str, place: dict) -> tuple:
    lat, lon = _jitter(rng, place["lat"], place["lon"])
    street = f"{rng.choice(STREETS)} {rng.randint(1, 120)}"
    return (label, street, place["postcode"], place["city"], place["country"], lat, lon)


def _phone(rng: random.Random, country: str) -> str:
    if country == "AT":
        return f"+43 66{rng.choice('049')} {rng.randint(1000000, 9999999)}"
    if country == "CH":
        digits = f"{rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
        return f"+41 7{rng.choice('6789')} {digits}"
    return f"+49 15{rng.choice('1256789')}{rng.randint(0, 9)} {rng.randint(1000000, 9999999)}"


def _bio(rng: random.Random, kind: str, category: str, now: datetime) -> str:
    if kind == "professional":
        years = rng.randint(5, 30)
        return rng.choice(_PRO_BIOS).format(category=category, year=now.year - years, years=years)
    return rng.choice(_PRIVATE_BIOS).format(category=category)


def _ascii(name: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ş": "s", "ç": "c"})
    return name.lower().translate(table).replace(" ", "-")


# --- writing ---------------------------------------------------------------------------------


def _refuse_partial_data() -> None:
    """Demo users without the demo admin: an earlier run stopped half-way."""
    found = db.session.scalar(
        select(func.count()).where(
            User.email.in_([*CM_EMAILS, CUSTOMER_EMAIL, MEMBER_EMAIL])
            | User.email.like(f"%@{BULK_DOMAIN}")
        )
    )
    if found:
        raise click.ClickException(
            f"found {found} demo users but no {ADMIN_EMAIL}: an earlier seed-demo was "
            "interrupted; start from an empty database (e.g. delete instance/crowd.db)"
        )


def _member_children(member_id: int, plan: MemberPlan, skill_ids: dict, cm_id: int) -> list:
    """Skills, availability and status history of one member (their stats are separate)."""
    rows: list = [
        MemberSkill(
            member_id=member_id,
            skill_id=skill_ids[slug],
            proficiency=proficiency,
            verified=verified,
            verified_by_id=cm_id if verified else None,
            verified_at=verified_at,
        )
        for slug, proficiency, verified, verified_at in plan.skills
    ]
    rows += [
        AvailabilitySlot(member_id=member_id, weekday=day, start_minute=start, end_minute=end)
        for day, start, end in plan.slots
    ]
    return rows


def _history_rows(member_id: int, user_id: int, plan: MemberPlan, cm_id: int) -> list:
    return [
        MemberStatusChange(
            member_id=member_id,
            from_status=before,
            to_status=after,
            reason=reason,
            changed_by_id=cm_id if by == "cm" else user_id,
            created_at=when,
        )
        for before, after, reason, when, by in plan.history
    ]


def _profile_fields(plan: MemberPlan) -> dict:
    return {
        "kind": plan.kind,
        "display_name": plan.display_name,
        "phone": plan.phone,
        "business_name": plan.business_name,
        "bio": plan.bio,
        "lat": plan.lat,
        "lon": plan.lon,
        "postcode": plan.postcode,
        "city": plan.city,
        "country": plan.country,
        "service_radius_km": plan.service_radius_km,
        "max_concurrent_jobs": plan.max_concurrent_jobs,
        "status": plan.status,
        "status_changed_at": plan.status_changed,
        "level_rank": plan.level_rank,
        "created_at": plan.joined,
        "updated_at": plan.status_changed,
    }


def _write_members(
    plans: Sequence[MemberPlan], password_hash: str, skill_ids: dict, cm_id: int
) -> list[int]:
    """Insert a batch of members with their users, stats, skills, slots and history."""
    # Rows go in directly, not through accounts.register_member: that would hash the
    # password again for every user (see seed) and write a history we write here anyway.
    users = [
        User(
            email=p.email,
            password_hash=password_hash,
            role="member",
            display_name=p.display_name,
            created_at=p.joined,
            updated_at=p.joined,
        )
        for p in plans
    ]
    db.session.add_all(users)
    db.session.flush()
    members = [
        Member(user_id=u.id, **_profile_fields(p)) for u, p in zip(users, plans, strict=True)
    ]
    db.session.add_all(members)
    db.session.flush()
    rows: list = []
    for user, member, plan in zip(users, members, plans, strict=True):
        rows.append(MemberStats(member_id=member.id, **plan.stats))
        rows += _member_children(member.id, plan, skill_ids, cm_id)
        rows += _history_rows(member.id, user.id, plan, cm_id)
    db.session.add_all(rows)
    db.session.flush()
    return [m.id for m in members]


def _complete_named_member(user: User, plan: MemberPlan, skill_ids: dict, cm_id: int) -> int:
    """Turn the freshly registered demo applicant into an onboarded member with a past."""
    member = db.session.scalar(select(Member).where(Member.user_id == user.id))
    for name, value in _profile_fields(plan).items():
        setattr(member, name, value)
    user.created_at = user.updated_at = plan.joined
    stats = db.session.get(MemberStats, member.id)
    for name, value in plan.stats.items():
        setattr(stats, name, value)
    registered = db.session.scalar(
        select(MemberStatusChange).where(MemberStatusChange.member_id == member.id)
    )
    registered.created_at = plan.joined
    db.session.add_all(_member_children(member.id, plan, skill_ids, cm_id))
    db.session.add_all(_history_rows(member.id, user.id, plan, cm_id)[1:])
    db.session.flush()
    return member.id


def _address_rows(customer_id: int, plan: CustomerPlan) -> list[CustomerAddress]:
    return [
        CustomerAddress(
            customer_id=customer_id,
            label=label,
            street=street,
            postcode=postcode,
            city=city,
            country=country,
            lat=lat,
            lon=lon,
            is_default=(i == 0),
            created_at=plan.joined,
            updated_at=plan.joined,
        )
        for i, (label, street, postcode, city, country, lat, lon) in enumerate(plan.addresses)
    ]


def _write_customers(plans: Sequence[CustomerPlan], password_hash: str) -> list[int]:
    users = [
        User(
            email=p.email,
            password_hash=password_hash,
            role="customer",
            display_name=p.display_name,
            created_at=p.joined,
            updated_at=p.joined,
        )
        for p in plans
    ]
    db.session.add_all(users)
    db.session.flush()
    customers = [
        Customer(
            user_id=u.id,
            kind=p.kind,
            display_name=p.display_name,
            company_name=p.company_name,
            phone=p.phone,
            created_at=p.joined,
            updated_at=p.joined,
        )
        for u, p in zip(users, plans, strict=True)
    ]
    db.session.add_all(customers)
    db.session.flush()
    for customer, plan in zip(customers, plans, strict=True):
        db.session.add_all(_address_rows(customer.id, plan))
    db.session.flush()
    return [c.id for c in customers]


def _complete_named_customer(user: User, plan: CustomerPlan) -> int:
    customer = db.session.scalar(select(Customer).where(Customer.user_id == user.id))
    user.created_at = customer.created_at = plan.joined
    db.session.add_all(_address_rows(customer.id, plan))
    db.session.flush()
    return customer.id


def _write_preferences(
    rng: random.Random,
    customer_ids: list[int],
    customer_plans: list[CustomerPlan],
    member_rows: list[tuple[int, MemberPlan]],
) -> tuple[int, int]:
    """Some customers keep favourite members nearby; a few have blocked one."""
    active_by_city: dict[str, list[int]] = {}
    for member_id, plan in member_rows:
        if plan.status == "active":
            active_by_city.setdefault(plan.city, []).append(member_id)
    favourites = blocks = 0
    for position, (customer_id, plan) in enumerate(zip(customer_ids, customer_plans, strict=True)):
        nearby = active_by_city.get(plan.addresses[0][3], [])
        if position == 0 and member_rows:
            # The demo customer already likes the demo member: both live in Berlin.
            chosen = [member_rows[0][0]]
        elif nearby and rng.random() < 0.35:
            chosen = rng.sample(nearby, min(len(nearby), rng.randint(1, 3)))
        else:
            chosen = []
        db.session.add_all(FavouriteMember(customer_id=customer_id, member_id=m) for m in chosen)
        favourites += len(chosen)
        others = [m for m in nearby if m not in chosen]
        if position and others and rng.random() < 0.08:
            db.session.add(
                BlockedMember(
                    customer_id=customer_id,
                    member_id=rng.choice(others),
                    reason=rng.choice(_BLOCK_REASONS),
                )
            )
            blocks += 1
    db.session.flush()
    return favourites, blocks


# --- reporting -------------------------------------------------------------------------------


def _credentials() -> str:
    return "\n".join(
        [
            f"Demo accounts (password {DEMO_PASSWORD}; sign in with POST /api/v1/auth/tokens):",
            f"  admin               {ADMIN_EMAIL}",
            f"  community managers  {', '.join(CM_EMAILS)}",
            f"  customer            {CUSTOMER_EMAIL}",
            f"  member              {MEMBER_EMAIL}",
        ]
    )


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
    lines = [
        f"Demo data loaded in {seconds:.1f} s:",
        f"  members    {len(members)} ({', '.join(f'{n} {s}' for s, n in statuses.most_common())}; "
        f"{kinds['professional']} professional, {kinds['private']} private) "
        f"in {len({p.city for p in members})} cities "
        f"({', '.join(f'{c} {n}' for c, n in sorted(countries.items()))}), {skills} skills",
        f"  customers  {len(customers)} ({business} business), {addresses} service addresses, "
        f"{favourites} favourites, {blocks} blocks",
        "  staff      1 admin, 2 community managers",
        _credentials(),
    ]
    return "\n".join(lines)
