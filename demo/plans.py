"""Planning the demo crowd: pure functions of the random source, and the plans they make.

Everything about a member or customer is drawn before any writing, so the same seed gives
the same crowd.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from demo.draws import (
    ascii_name,
    jitter,
    jobs_for_level,
    pick_address,
    pick_bio,
    pick_categories,
    pick_city,
    pick_phone,
    pick_reference_hint,
    pick_skills,
    pick_slots,
    plan_stats,
)
from demo.levels import LEVEL_CAPS, LEVEL_TENURE_DAYS, LEVEL_TRAINING, PROMOTION_TENURE_DAYS
from demo.places import FIRST_NAMES, LAST_NAMES
from demo.texts import TRAINING_MODULES

# Bulk demo users live under their own domain, so an interrupted run can be recognised.
BULK_DOMAIN = "demo.crowd.example"
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

# How far an applicant has come; members admitted earlier are "approved".
APPLICANT_STAGES = ("registered", "identity_submitted", "test_passed", "call_scheduled")
SELF_PACED = tuple(code for code, *_, mode in TRAINING_MODULES if mode == "self_paced")
ATTENDED_BY_CATEGORY = {
    category: code for code, _, _, category, _, mode in TRAINING_MODULES if mode == "attended"
}
_IDENTITY_DOCUMENTS = ("id_card", "id_card", "passport", "residence_permit")
_ISSUERS = {"DE": "Bürgeramt {city}", "AT": "Magistrat {city}", "CH": "Einwohneramt {city}"}
_TRADE_DOCUMENTS = (
    ("trade_certificate", "meisterbrief", "Handwerkskammer {city}"),
    ("trade_certificate", "gesellenbrief", "Handwerkskammer {city}"),
    ("business_registration", "gewerbeanmeldung", "Gewerbeamt {city}"),
)
_CALL_NOTES = (
    "Motivated, knows the house rules, good questions about the app.",
    "Experienced; talked through safety with mains power.",
    "Friendly and clear; explained their availability well.",
    "Went through the job workflow and cancellation rules.",
)


@dataclass
class OnboardingPlan:
    """A demo member's way in and up: checks, tests, call, house rules, training, promotions."""

    stage: str  # an APPLICANT_STAGES entry, or "approved"
    # {kind, document_type, issuer, reference_hint, expires_on, submitted_at,
    #  checked_at (None: not checked yet)}; issued in the member's country
    documents: list[dict]
    # (skill slug, started at, wrong answers): two or more wrong fail the test
    attempts: list[tuple[str, datetime, int]]
    rules_accepted_at: datetime | None
    # (scheduled at, status "scheduled" or "passed", note)
    call: tuple[datetime, str, str | None] | None
    training: list[tuple[str, datetime]]
    promotions: list[datetime]  # to ranks 2, 3, … in order
    activated: datetime | None


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
    onboarding: OnboardingPlan | None = None


@dataclass
class CustomerPlan:
    """Everything about one demo customer, drawn from the random source before any writing."""

    email: str
    display_name: str
    kind: str
    company_name: str | None
    phone: str
    joined: datetime
    # (label, street, postcode, city, country, lat, lon)
    addresses: list[tuple[str, str, str, str, str, float, float]]


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
    place = place or pick_city(rng)
    kind = kind or ("professional" if rng.random() < 0.35 else "private")
    status = status or rng.choices(("active", "applicant", "paused"), weights=(85, 9, 6))[0]
    categories = categories or pick_categories(rng, kind)
    main_category = categories[0]
    lat, lon = jitter(rng, place["lat"], place["lon"])
    level = 0 if status == "applicant" else rng.choices((1, 2, 3, 4), weights=(45, 30, 17, 8))[0]

    # Time line: joined → onboarded (active) → maybe paused. Busier members have been here
    # longer; the job count follows from the level, the tenure from the job count.
    jobs = jobs_for_level(rng, level)
    if status == "applicant":
        joined = now - timedelta(days=rng.uniform(1, 30), minutes=rng.randint(0, 1439))
        activated = None
    else:
        per_day = rng.uniform(0.25, 1.0) if kind == "professional" else rng.uniform(0.08, 0.35)
        low, high = LEVEL_TENURE_DAYS[level]
        tenure = min(high, max(low, jobs / per_day + rng.uniform(14, 60)))
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
    skills = pick_skills(rng, kind, level, categories, verified_at)
    business_name = None
    if kind == "professional":
        trade = rng.choice(_TRADE_NAMES.get(main_category["slug"], ("Technikservice",)))
        if rng.random() < 0.7:
            business_name = f"{last} {trade}{rng.choice(_LEGAL_FORMS[place['country']])}"
        else:
            business_name = f"{trade} {place['city']}{rng.choice(('', ' GmbH'))}"
    plan = MemberPlan(
        email=f"{ascii_name(first)}.{ascii_name(last)}.m{index}@{BULK_DOMAIN}",
        display_name=f"{first} {last}",
        kind=kind,
        phone=pick_phone(rng, place["country"]),
        business_name=business_name,
        bio=pick_bio(rng, kind, main_category["name_de"], now) if rng.random() < 0.75 else None,
        lat=lat,
        lon=lon,
        postcode=place["postcode"],
        city=place["city"],
        country=place["country"],
        service_radius_km=rng.randint(20, 60) if kind == "professional" else rng.randint(10, 30),
        max_concurrent_jobs=min(
            rng.randint(2, 4) if kind == "professional" else rng.randint(1, 2),
            LEVEL_CAPS.get(level, 20),
        ),
        status=status,
        level_rank=level,
        joined=joined,
        status_changed=changed,
        skills=skills,
        slots=pick_slots(rng, kind),
        stats=plan_stats(rng, kind, level, jobs, status, now, paused_at),
        history=history,
    )
    plan.onboarding = plan_onboarding(rng, plan, activated, categories, now)
    return plan


def plan_customer(rng: random.Random, index: int, now: datetime) -> CustomerPlan:
    """A customer: a person, or (≈20 %) a business, with one or two service addresses."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    business = rng.random() < 0.2
    place = pick_city(rng)
    company_name = None
    if business:
        company_name = rng.choice(_COMPANY_PATTERNS).format(
            first=first,
            last=last,
            last2=rng.choice(LAST_NAMES),
            hotel=rng.choice(("Lindenhof", "zur Post", "Sonnenhof", "am Markt", place["city"])),
        )
    labels = ("Büro", f"Filiale {place['city']}") if business else ("Zuhause", "Ferienwohnung")
    addresses = [pick_address(rng, labels[0], place)]
    if rng.random() < 0.35:
        second = place if rng.random() < 0.6 else pick_city(rng)
        label = labels[1] if business or second is not place else rng.choice(("Büro", "Eltern"))
        addresses.append(pick_address(rng, label, second))
    return CustomerPlan(
        email=f"{ascii_name(first)}.{ascii_name(last)}.k{index}@{BULK_DOMAIN}",
        display_name=f"{first} {last}",
        kind="business" if business else "person",
        company_name=company_name,
        phone=pick_phone(rng, place["country"]),
        joined=now - timedelta(days=rng.uniform(1, 700)),
        addresses=addresses,
    )


def plan_onboarding(
    rng: random.Random,
    plan: MemberPlan,
    activated: datetime | None,
    categories: list[dict],
    now: datetime,
) -> OnboardingPlan:
    """A member's application as far as it got: documents, skill tests, house rules, intro call;
    for members admitted earlier also their training and promotions, fitting their level."""
    stage = "approved" if activated is not None else rng.choice(APPLICANT_STAGES)
    reached = (*APPLICANT_STAGES, "approved").index(stage)
    start, end = plan.joined, activated or now

    def at(fraction: float) -> datetime:
        return start + (end - start) * fraction

    documents = []
    if reached >= 1:
        checked = at(rng.uniform(0.3, 0.4)) if reached >= 2 else None
        documents.append(
            {
                "kind": "identity",
                "document_type": rng.choice(_IDENTITY_DOCUMENTS),
                "issuer": _ISSUERS[plan.country].format(city=plan.city),
                "reference_hint": pick_reference_hint(rng),
                "expires_on": (now + timedelta(days=rng.randint(200, 3600))).date(),
                "submitted_at": at(rng.uniform(0.05, 0.25)),
                "checked_at": checked,
            }
        )
        if plan.kind == "professional":
            kind, document_type, issuer = rng.choice(_TRADE_DOCUMENTS)
            documents.append(
                {
                    "kind": kind,
                    "document_type": document_type,
                    "issuer": issuer.format(city=plan.city),
                    "reference_hint": pick_reference_hint(rng),
                    "expires_on": None,
                    "submitted_at": at(rng.uniform(0.05, 0.25)),
                    "checked_at": checked,
                }
            )
    skills = [slug for slug, *_ in plan.skills]
    attempts: list[tuple[str, datetime, int]] = []
    if reached >= 2:
        for slug in skills if reached >= 3 else skills[:1]:
            passed_at = at(rng.uniform(0.45, 0.65))
            failed_at = passed_at - timedelta(hours=rng.uniform(25, 72))
            if rng.random() < 0.15 and failed_at > at(0.4):
                attempts.append((slug, failed_at, rng.randint(2, 3)))  # retried after the delay
            attempts.append((slug, passed_at, 1 if rng.random() < 0.3 else 0))
        if reached == 2 and len(skills) > 1 and rng.random() < 0.5:
            attempts.append((skills[1], at(rng.uniform(0.7, 0.95)), rng.randint(2, 3)))
    rules_accepted_at = at(rng.uniform(0.2, 0.7)) if reached >= 3 else None
    call = None
    if stage == "approved":
        call = (at(rng.uniform(0.75, 0.95)), "passed", rng.choice(_CALL_NOTES))
    elif stage == "call_scheduled":
        soon = (now + timedelta(days=rng.uniform(1, 7))).replace(minute=0, second=0, microsecond=0)
        call = (soon, "scheduled", None)

    promotions: list[datetime] = []
    previous = activated
    for rank in range(2, plan.level_rank + 1):
        earliest = max(previous, activated + timedelta(days=PROMOTION_TENURE_DAYS[rank]))
        earliest += timedelta(hours=1)
        # The last promotion is sometimes recent: a few demo members are in their grace period.
        share = rng.uniform(0.02, 1.0) if rank == plan.level_rank else rng.uniform(0.05, 0.5)
        previous = earliest + (now - earliest) * share
        promotions.append(previous)
    training: list[tuple[str, datetime]] = []
    if activated is not None:
        low, high = LEVEL_TRAINING.get(plan.level_rank, (0, 2))
        codes = rng.sample(SELF_PACED, rng.randint(low, high))
        workshops = [ATTENDED_BY_CATEGORY.get(category["slug"]) for category in categories]
        codes += [code for code in workshops if code and rng.random() < 0.6]
        until = promotions[-1] if promotions else now
        training = [
            (code, activated + (until - activated) * rng.uniform(0.05, 0.95)) for code in codes
        ]
    elif rng.random() < 0.3:
        codes = rng.sample(SELF_PACED, rng.randint(1, 2))
        training = [(code, at(rng.uniform(0.1, 0.9))) for code in codes]
    return OnboardingPlan(
        stage=stage,
        documents=documents,
        attempts=attempts,
        rules_accepted_at=rules_accepted_at,
        call=call,
        training=training,
        promotions=promotions,
        activated=activated,
    )
