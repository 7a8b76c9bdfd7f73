"""Small random draws for the demo plans: places, contact details, skills, slots, counters.

Pure functions of the random source; the order of the draws is part of the seed's output.
"""

from __future__ import annotations

import math
import random
import statistics
from datetime import datetime, timedelta

from demo.levels import (
    LEVEL_ACCEPTANCE,
    LEVEL_CANCELLATION,
    LEVEL_DISPUTES,
    LEVEL_JOBS,
    LEVEL_RATING_FLOOR,
    LEVEL_VERIFIED_SKILLS,
)
from demo.places import CITIES, STREETS
from members.catalogue import CATEGORIES
from members.service import RESPONSE_WINDOW

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


def pick_city(rng: random.Random) -> dict:
    """A city centre, weighted by how many demo people live there."""
    return rng.choices(CITIES, weights=[c["weight"] for c in CITIES])[0]


def jitter(rng: random.Random, lat: float, lon: float) -> tuple[float, float]:
    """A point up to JITTER_KM from (lat, lon), uniform over the disc."""
    distance = JITTER_KM * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(bearing) / KM_PER_DEGREE
    dlon = distance * math.sin(bearing) / (KM_PER_DEGREE * math.cos(math.radians(lat)))
    return round(lat + dlat, 5), round(lon + dlon, 5)


def city_named(name: str) -> dict:
    """The city centre called `name`."""
    return next(c for c in CITIES if c["city"] == name)


def category_by_slug(slug: str) -> dict:
    """The catalogue category with this slug."""
    return next(c for c in CATEGORIES if c["slug"] == slug)


def pick_categories(rng: random.Random, kind: str) -> list[dict]:
    """A main category and, for about half the crowd, a second one."""
    weights = _CATEGORY_WEIGHTS[kind]
    pool = list(CATEGORIES)
    main = rng.choices(pool, weights=[weights.get(c["slug"], 5) for c in pool])[0]
    chosen = [main]
    if rng.random() < 0.5 and len(pool) > 1:
        rest = [c for c in pool if c is not main]
        chosen.append(rng.choices(rest, weights=[weights.get(c["slug"], 5) for c in rest])[0])
    return chosen


def pick_skills(
    rng: random.Random, kind: str, level: int, categories: list[dict], verified_at: datetime | None
) -> list[tuple[str, int, bool, datetime | None]]:
    """2–6 skills from the given categories; safety-relevant ones mostly verified by a CM, and
    as many verified as a Senior or Expert needs (each level asks for verified skills)."""
    count = rng.choices((2, 3, 4, 5, 6), weights=(20, 28, 24, 16, 12))[0]
    count = max(count, LEVEL_VERIFIED_SKILLS.get(level, 0))
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
    missing = LEVEL_VERIFIED_SKILLS.get(level, 0) - sum(claim[2] for claim in result)
    for index, (slug, proficiency, verified, _) in enumerate(result):
        if missing > 0 and not verified:
            # Verified after a CM saw their work (or their passed test): any category.
            result[index] = (slug, proficiency, True, verified_at)
            missing -= 1
    return result


def pick_slots(rng: random.Random, kind: str) -> list[tuple[int, int, int]]:
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


def jobs_for_level(rng: random.Random, level: int) -> int:
    """A completed-jobs count that fits the level (see LEVEL_JOBS)."""
    low, high = LEVEL_JOBS[level]
    return rng.randint(low, high)


def plan_stats(
    rng: random.Random,
    kind: str,
    level: int,
    jobs: int,
    status: str,
    now: datetime,
    paused_at: datetime | None,
) -> dict:
    """Counters that agree with each other the way the event handlers would have kept them.

    offers received ≥ accepted + declined; accepted ≥ completed + cancelled (the rest are jobs
    in progress); ratings for most completed jobs, averaging 3.8–5.0 (at least what the
    member's level asks for); the median response time is the median of the recent window, as
    members.service computes it; rates within what the level asks for.
    """
    if status == "applicant":
        return {"recent_response_seconds": []}
    cancelled = round(jobs * rng.uniform(0, LEVEL_CANCELLATION.get(level, 0.04)))
    accepted = jobs + cancelled + (rng.randint(0, 2) if status == "active" else 0)
    rate = rng.uniform(*LEVEL_ACCEPTANCE.get(level, (0.35, 0.9)))
    declined = round(accepted * (1 - rate) / rate)
    answered = accepted + declined
    received = answered + round(answered * rng.uniform(0.05, 0.3))
    rating_count = round(jobs * rng.uniform(0.55, 0.85))
    floor = LEVEL_RATING_FLOOR.get(level, 3.8)
    target = min(5.0, max(floor, rng.gauss(4.65, 0.25)))
    rating_sum = min(
        5 * rating_count, max(math.ceil(floor * rating_count), round(target * rating_count))
    )
    disputed = round(jobs * rng.uniform(0, LEVEL_DISPUTES.get(level, 0.05)))
    # An Expert may have lost one dispute at most.
    lost = min(disputed, rng.randint(0, 1) if level >= 4 else rng.randint(0, 2))
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
        "jobs_disputed": disputed,
        "disputes_lost": lost,
        "rating_count": rating_count,
        "rating_sum": rating_sum,
        # Derived exactly as members.service._refresh_rates derives them.
        "acceptance_rate": round(accepted / answered, 4) if answered else None,
        "cancellation_rate": round(cancelled / taken, 4) if taken else None,
        "average_rating": round(rating_sum / rating_count, 3) if rating_count else None,
        "median_response_seconds": int(statistics.median(window)) if window else None,
        "recent_response_seconds": window,
        "last_job_completed_at": last_done,
    }


def pick_reference_hint(rng: random.Random) -> str:
    """The last four characters of a document number, as a CM would note them."""
    return "".join(rng.choice("ACDEFGHJKLMNPRTUVWXY0123456789") for _ in range(4))


def pick_address(rng: random.Random, label: str, place: dict) -> tuple:
    """(label, street, postcode, city, country, lat, lon) near the centre of `place`."""
    lat, lon = jitter(rng, place["lat"], place["lon"])
    street = f"{rng.choice(STREETS)} {rng.randint(1, 120)}"
    return (label, street, place["postcode"], place["city"], place["country"], lat, lon)


def pick_phone(rng: random.Random, country: str) -> str:
    """A mobile number in the format of the country."""
    if country == "AT":
        return f"+43 66{rng.choice('049')} {rng.randint(1000000, 9999999)}"
    if country == "CH":
        digits = f"{rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
        return f"+41 7{rng.choice('6789')} {digits}"
    return f"+49 15{rng.choice('1256789')}{rng.randint(0, 9)} {rng.randint(1000000, 9999999)}"


def pick_bio(rng: random.Random, kind: str, category: str, now: datetime) -> str:
    """A short profile text for a private or professional member."""
    if kind == "professional":
        years = rng.randint(5, 30)
        return rng.choice(_PRO_BIOS).format(category=category, year=now.year - years, years=years)
    return rng.choice(_PRIVATE_BIOS).format(category=category)


def ascii_name(name: str) -> str:
    """A name as it can appear in an email address (umlauts spelled out)."""
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ş": "s", "ç": "c"})
    return name.lower().translate(table).replace(" ", "-")
