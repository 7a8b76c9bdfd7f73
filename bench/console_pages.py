"""Benchmark: the server time of each console page at 100,000 members and 200,000 jobs.

    .venv/bin/python bench/console_pages.py [--members 100000] [--jobs 200000] [--requests 50]
    .venv/bin/python bench/console_pages.py --smoke          # 2,000 members, 4,000 jobs, 5 requests
    .venv/bin/python bench/console_pages.py --only insight   # time only pages labelled "…insight…"

Creates the database named in DATABASE_URL (dropping it first, and again at the end), builds the
schema with the migrations and loads, set-based (INSERT … SELECT generate_series), the members
with their users and counters, 5 % as many customers, the jobs across every status with their
assigned members, a captured payment for each job past assignment (a few with an open
chargeback), customers' reviews of confirmed jobs and about 5,000 support tickets (disputes
among them; a fifth assigned to the bench community manager, a fifth unassigned; SLA deadlines
spread from overdue to next week); then ANALYZE.

A community manager signs in to the console (password, then the TOTP code of a confirmed
enrolment) with the app's test client, in-process: what is timed is the server's work for a
request — routing, the services, the database, the template — not a network. Each page is
requested `--warmup` times, then `--requests` times, each timed with perf_counter; in the same
rounds the API calls that serve the same data (with the CM's bearer token), their times summed
per round: the floor. Printed per page: p50 and p95 of the page, of the API floor, the ratio
page ÷ API at the median, and PASS/FAIL against the target (issue 21): p95 ≤ 150 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from sqlalchemy import make_url  # noqa: E402

from bench.console_seed_comms import comms_pages, seed_comms  # noqa: E402
from bench.console_seed_dispatch import dispatch_steps  # noqa: E402
from bench.console_seed_exports import seed_payouts  # noqa: E402
from bench.console_seed_insight import insight_steps  # noqa: E402
from bench.console_seed_onboarding import seed_onboarding  # noqa: E402
from bench.console_seed_programmes import seed_programmes  # noqa: E402
from bench.pgdb import drop_database, percentile, plain_url, recreate_database  # noqa: E402
from console.insight_charts import CHARTS  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/crowd_bench_console"
TARGET_MS = 150.0
PASSWORD = "bench console password 2026"
TICKETS = 5_000
CHARGEBACKS = 25
FIRST = ("Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannes", "Ida",
         "Jonas", "Klara", "Lukas", "Mia", "Noah", "Olga", "Paul", "Rosa", "Stefan", "Tina",
         "Uwe")  # fmt: skip
LAST = ("Schmidt", "Müller", "Weber", "Wagner", "Becker", "Hoffmann", "Schäfer", "Koch",
        "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun",
        "Krüger", "Hofmann", "Hartmann", "Lange", "Werner", "Krause", "Lehmann", "Köhler",
        "Maier", "Huber", "Kaiser", "Fuchs", "Peters", "Lang")  # fmt: skip
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- seeding --------------------------------------------------------------------------------

NAME = "(%(first)s)[1 + g %%%% 20] || ' ' || (%(last)s)[1 + (g / 20) %%%% 30]"
# Job statuses by g % 20: 1 open, 1 offered, 2 assigned, 1 in progress, 2 completed,
# 8 confirmed, 3 closed, 1 cancelled, 1 disputed.
STATUS = """(ARRAY['open','offered','assigned','assigned','in_progress','completed','completed',
  'confirmed','confirmed','confirmed','confirmed','confirmed','confirmed','confirmed','confirmed',
  'closed','closed','closed','cancelled','disputed'])[1 + g %% 20]"""


def seed_steps(members: int, customers: int, jobs: int, category_id: int) -> list[tuple]:
    """(label, SQL, parameters) in order; users 1..M are members, M+1..M+C customers."""
    name = NAME % {
        "first": "ARRAY[" + ",".join(f"'{n}'" for n in FIRST) + "]",
        "last": "ARRAY[" + ",".join(f"'{n}'" for n in LAST) + "]",
    }
    p = {"m": members, "c": customers, "j": jobs, "cat": category_id, "t": min(TICKETS, jobs // 4)}
    return [
        (
            "member users",
            f"""
INSERT INTO users (id, email, password_hash, role, display_name, created_at, updated_at)
SELECT g, 'member' || g || '@bench.test', 'x', 'member', {name} || ' ' || g,
       now() - g * interval '1 minute', now()
  FROM generate_series(1, %(m)s) g""",
            p,
        ),
        (
            "members",
            f"""
INSERT INTO members (id, user_id, kind, display_name, phone, lat, lon, postcode, city, country,
                     service_radius_km, max_concurrent_jobs, status, status_changed_at,
                     level_rank, created_at, updated_at)
SELECT g, g, CASE WHEN g %% 7 = 0 THEN 'professional' ELSE 'private' END,
       {name} || ' ' || g, '+49151' || lpad(g::text, 8, '0'),
       47.5 + (g %% 500) / 100.0, 6.0 + (g %% 900) / 100.0,
       lpad(((g * 37) %% 99999)::text, 5, '0'), 'Berlin', 'DE', 25, 3,
       CASE WHEN g %% 50 = 0 THEN 'paused' ELSE 'active' END, now(), 1 + g %% 4,
       now() - g * interval '1 minute', now()
  FROM generate_series(1, %(m)s) g""",
            p,
        ),
        (
            "member counters",
            """
INSERT INTO member_stats (member_id, offers_received, offers_accepted, offers_declined,
                          jobs_completed, jobs_cancelled, rating_count, rating_sum,
                          recent_response_seconds, updated_at)
SELECT g, 8, 4, 2, 3, 0, 2, 9, '[]', now() FROM generate_series(1, %(m)s) g""",
            p,
        ),
        (
            "customer users",
            f"""
INSERT INTO users (id, email, password_hash, role, display_name, created_at, updated_at)
SELECT %(m)s + g, 'customer' || g || '@bench.test', 'x', 'customer', {name} || ' C' || g,
       now(), now()
  FROM generate_series(1, %(c)s) g""",
            p,
        ),
        (
            "customers",
            f"""
INSERT INTO customers (id, user_id, kind, display_name, phone, created_at, updated_at)
SELECT g, %(m)s + g, 'person', {name} || ' C' || g, '+49170' || lpad(g::text, 8, '0'),
       now(), now()
  FROM generate_series(1, %(c)s) g""",
            p,
        ),
        (
            "jobs",
            f"""
INSERT INTO jobs (id, customer_id, category_id, title, description, device, street, postcode,
                  city, country, lat, lon, duration_minutes, pricing, currency, price_amount,
                  min_level_rank, status, status_changed_at, wave, escalated_at,
                  escalation_reason, assigned_member_id, assigned_at, completed_at,
                  confirmed_at, closed_at, cancelled_at, cancelled_by, cancellation_fee_amount,
                  scheduled_start, scheduled_end, created_at, updated_at)
SELECT g, 1 + g %% %(c)s, %(cat)s, 'Mount a TV #' || g, 'Wall mounting, 55 inch.',
       '{{}}', 'Hauptstraße ' || (g %% 200), '10117', 'Berlin', 'DE', 52.52, 13.405, 90,
       'fixed', 'EUR', 8000 + (g %% 40) * 250, 1, s.status, t.at, 1,
       CASE WHEN s.status = 'open' AND g %% 400 = 0 THEN t.at END,
       CASE WHEN s.status = 'open' AND g %% 400 = 0 THEN 'nobody accepted' END,
       CASE WHEN s.status NOT IN ('open', 'offered', 'cancelled')
            THEN 1 + (g * 7919) %% %(m)s END,
       CASE WHEN s.status NOT IN ('open', 'offered', 'cancelled') THEN t.at END,
       CASE WHEN s.status IN ('completed', 'confirmed', 'closed', 'disputed') THEN t.at END,
       CASE WHEN s.status IN ('confirmed', 'closed') THEN t.at END,
       CASE WHEN s.status = 'closed' THEN t.at END,
       CASE WHEN s.status = 'cancelled' THEN t.at END,
       CASE WHEN s.status = 'cancelled' THEN 'customer' END, 0,
       t.at + interval '2 days', t.at + interval '2 days 2 hours', t.at, t.at
  FROM generate_series(1, %(j)s) g,
       LATERAL (SELECT {STATUS} AS status) s,
       LATERAL (SELECT now() - (%(j)s - g) * interval '3 minutes' AS at) t""",
            p,
        ),
        (
            "payments",
            """
INSERT INTO job_payments (job_id, customer_id, member_id, provider, provider_payment_id, status,
                          currency, amount_authorized, amount_captured, amount_refunded,
                          transfer_group, authorize_attempt, payment_method, authorized_at,
                          captured_at, created_at, updated_at)
SELECT id, customer_id, assigned_member_id, 'offline', 'pi_bench_' || id,
       CASE WHEN status IN ('assigned', 'in_progress') THEN 'authorized' ELSE 'captured' END,
       currency, price_amount,
       CASE WHEN status IN ('assigned', 'in_progress') THEN 0 ELSE price_amount END, 0,
       'job_' || id, 1, 'card', created_at,
       CASE WHEN status IN ('assigned', 'in_progress') THEN NULL ELSE created_at END,
       created_at, updated_at
  FROM jobs WHERE assigned_member_id IS NOT NULL""",
            p,
        ),
        (
            "reviews",
            """
INSERT INTO reviews (job_id, author, author_user_id, stars, comment, tags, created_at,
                     published_at)
SELECT j.id, 'customer', c.user_id, 3 + j.id %% 3, 'Tidy work.', '[]', j.updated_at,
       j.updated_at
  FROM jobs j JOIN customers c ON c.id = j.customer_id
 WHERE j.status IN ('confirmed', 'closed')""",
            p,
        ),
        (
            "tickets",
            """
INSERT INTO tickets (subject, category, priority, status, job_id, customer_id, member_id,
                     opened_by_id, opened_by_role, assignee_id, dispute, first_response_due_at,
                     resolution_due_at, sla_paused_seconds, created_at, updated_at)
SELECT 'Problem with job #' || j.id,
       CASE WHEN j.status = 'disputed' THEN 'quality_complaint'
            ELSE (ARRAY['no_show','damage','payment','behaviour','other'])[1 + g %% 5] END,
       (ARRAY['low','normal','normal','high','urgent'])[1 + g %% 5],
       (ARRAY['new','open','waiting_on_customer','waiting_on_member','in_mediation',
              'resolved','closed','open','new','escalated'])[1 + g %% 10],
       j.id, j.customer_id, j.assigned_member_id, c.user_id, 'customer',
       CASE g %% 5 WHEN 0 THEN %(cm)s WHEN 1 THEN NULL ELSE %(other_cm)s END,
       j.status = 'disputed',
       now() + ((g %% 97) - 24) * interval '1 hour',
       now() + ((g %% 193) - 24) * interval '1 hour', 0,
       now() - (g %% 500) * interval '1 hour', now()
  FROM generate_series(1, %(t)s) g
  JOIN jobs j ON j.id = (%(j)s - g * (%(j)s / (%(t)s + 1)))
  JOIN customers c ON c.id = j.customer_id""",
            p,
        ),
        (
            "chargebacks",
            f"""
UPDATE job_payments SET dispute_id = 'dp_bench_' || job_id, dispute_status = 'needs_response',
       dispute_reason = 'fraudulent', dispute_amount = amount_captured,
       disputed_at = now() - interval '2 days',
       dispute_evidence_due_at = now() + (job_id %% 10) * interval '1 day'
 WHERE job_id IN (SELECT job_id FROM tickets WHERE dispute ORDER BY job_id DESC
                  LIMIT {CHARGEBACKS})""",
            p,
        ),
        (
            "messages",
            """
INSERT INTO ticket_messages (ticket_id, author_id, author_role, visibility, body, attachments,
                             created_at)
SELECT t.id, CASE WHEN n %% 2 = 0 THEN t.opened_by_id ELSE %(cm)s END,
       CASE WHEN n %% 2 = 0 THEN 'customer' ELSE 'community_manager' END,
       CASE WHEN n = 3 THEN 'internal' ELSE 'parties' END,
       'Message ' || n || ' about job #' || t.job_id, '[]',
       t.created_at + n * interval '10 minutes'
  FROM tickets t, generate_series(0, 3) n""",
            p,
        ),
    ]


def seed(url: str, members: int, customers: int, jobs: int, category_id: int, cms: tuple) -> None:
    steps = (
        seed_steps(members, customers, jobs, category_id)
        + insight_steps(members)
        + dispatch_steps(members, category_id)
    )
    t0 = time.perf_counter()
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        for n, (label, sql, params) in enumerate(steps, 1):
            conn.execute(sql, {**params, "cm": cms[0], "other_cm": cms[1]})
            elapsed = time.perf_counter() - t0
            eta = elapsed / n * (len(steps) - n)
            print(f"  seeded {label:16} [{n}/{len(steps)}] {elapsed:6.1f} s, ETA {eta:5.0f} s",
                  flush=True)  # fmt: skip
        seed_programmes(conn, {"m": members, "cat": category_id, "cm": cms[0]})  # programmes
        for table in ("users", "members", "customers", "jobs", "job_payments", "reviews",
                      "tickets", "ticket_messages"):  # fmt: skip
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        seed_comms(conn, cms[0])  # Programmes: broadcasts, moderation, help centre
        conn.execute("VACUUM ANALYZE")


# --- the console and the API in-process -----------------------------------------------------


def console_client(app, email: str, secret: str):
    """A test client signed in to the console: password, then the current TOTP code."""
    import pyotp

    client = app.test_client()

    def post(page: str, **fields):
        html = client.get(page).get_data(as_text=True)
        token = _CSRF.search(html)
        assert token, f"{page} has no CSRF token"
        return client.post(page, data={"csrf_token": token.group(1), **fields})

    first = post("/console/sign-in", email=email, password=PASSWORD)
    assert first.status_code == 303, first.status_code
    second = post("/console/two-factor", code=pyotp.TOTP(secret).now())
    assert second.status_code == 303, second.get_data(as_text=True)[:500]
    return client


def timed(client, path: str, headers: dict | None = None) -> float:
    start = time.perf_counter()
    response = client.get(path, headers=headers)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise SystemExit(f"GET {path} → {response.status_code}: {response.get_data()[:400]!r}")
    return elapsed * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="2,000 members, 4,000 jobs, 5 rounds")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--only", metavar="SUBSTRING", help="time only the pages whose label contains it"
    )
    args = parser.parse_args()
    if args.smoke:
        args.members, args.jobs, args.requests, args.warmup = 2_000, 4_000, 5, 1
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgresql"):
        sys.stderr.write("bench/console_pages.py needs PostgreSQL (DATABASE_URL=…)\n")
        return 2
    if make_url(url).database in (None, "", "postgres", "template0", "template1"):
        # A server's URL (as the tests' CROWD_TEST_DATABASE_URL): a database of our own there.
        url = make_url(url).set(database=f"crowd_bench_console_{os.getpid()}")
        url = url.render_as_string(False)
    started = time.perf_counter()
    recreate_database(url)
    try:
        return run(url, args, started)
    finally:
        if not args.keep:
            drop_database(url)


def run(url: str, args, started: float) -> int:
    import logging

    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from accounts import service as accounts
    from console import twofactor
    from crowd import create_app
    from crowd.extensions import db
    from members.models import SkillCategory
    from members.service import sync_catalogue

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": secrets.token_urlsafe(32),
            "STRIPE_API_KEY": "",
            "STRIPE_WEBHOOK_SECRET": "",
            "TESTING": True,
        }
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    members, jobs = args.members, args.jobs
    customers = max(10, members // 20)
    with app.app_context():
        with contextlib.redirect_stderr(io.StringIO()):
            upgrade()
        sync_catalogue()
        first_category = select(SkillCategory.id).order_by(SkillCategory.id).limit(1)
        category_id = db.session.scalars(first_category).first()
        db.session.commit()
    # Staff ids come after the seeded users: reserve them by moving the sequence first.
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('users', 'id'), %s)",
            (members + customers + 1,),
        )
    with app.app_context():
        staff = []
        for n, role in enumerate(("community_manager", "community_manager"), 1):
            user = accounts.create_staff(
                actor_id=None, email=f"cm{n}@bench.test", password=PASSWORD,
                display_name=f"Bench CM {n}", role=role,
            )  # fmt: skip
            db.session.flush()
            staff.append(user.id)
        cm_id = staff[0]
        totp = twofactor.begin_enrolment(cm_id)
        import pyotp

        twofactor.confirm_enrolment(cm_id, pyotp.TOTP(totp).at(time.time() - 30))
        token = accounts.sign_in(email="cm1@bench.test", password=PASSWORD).secret
        # Exports/payouts/settings: the payouts and settings pages are admins'.
        admin = accounts.create_staff(
            actor_id=None, email="admin@bench.test", password=PASSWORD,
            display_name="Bench Admin", role="admin",
        )  # fmt: skip
        db.session.flush()
        admin_totp = twofactor.begin_enrolment(admin.id)
        twofactor.confirm_enrolment(admin.id, pyotp.TOTP(admin_totp).at(time.time() - 30))
        admin_token = accounts.sign_in(email="admin@bench.test", password=PASSWORD).secret
        db.session.commit()

    print(f"seeding {members:,} members, {customers:,} customers, {jobs:,} jobs, "
          f"{TICKETS:,} tickets …", flush=True)  # fmt: skip
    t0 = time.perf_counter()
    seed(url, members, customers, jobs, category_id, tuple(staff))
    application_id = seed_onboarding(url, members, staff[0])  # onboarding review
    seed_payouts(url, members)
    seed_s = time.perf_counter() - t0

    with app.app_context():
        one = db.session.execute
        ticket = one(text(
            "SELECT t.id, t.job_id FROM tickets t JOIN job_payments p ON p.job_id = t.job_id "
            "WHERE t.dispute AND p.dispute_id IS NOT NULL ORDER BY t.id LIMIT 1"
        )).one()  # fmt: skip
        busy_member = one(text(
            "SELECT assigned_member_id FROM jobs WHERE assigned_member_id IS NOT NULL "
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        )).scalar()  # fmt: skip
        busy_customer = one(text(
            "SELECT customer_id FROM jobs GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        )).scalar()  # fmt: skip
        email, member_name = one(text(
            "SELECT u.email, m.display_name FROM members m JOIN users u ON u.id = m.user_id "
            "WHERE m.id = :id"
        ), {"id": members // 2}).one()  # fmt: skip
        run_id = one(text("SELECT max(id) FROM top_performer_runs")).scalar()
        counts = {
            t: one(text(f"SELECT count(*) FROM {t}")).scalar()
            for t in ("members", "customers", "jobs", "job_payments", "reviews", "tickets")
        }
        db.session.remove()
    print(f"seeded in {seed_s:.1f} s: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))

    prefix = " ".join(member_name.split()[:2])[:-2]  # "Anna Schmi": many names share it
    from urllib.parse import quote

    api = "/api/v1"
    open_statuses = "&".join(
        f"status={s}" for s in ("new", "open", "waiting_on_customer", "waiting_on_member",
                                "in_mediation", "resolution_proposed", "escalated")
    )  # fmt: skip
    pages = [
        ("my work", "/console/my-work", [
            f"{api}/tickets?assignee_id=me&{open_statuses}&limit=50",
            f"{api}/tickets?assignee_id=none&{open_statuses}&limit=50",
            f"{api}/staff/jobs?escalated=true&limit=50",
        ]),
        ("ticket queue", "/console/tickets/", [f"{api}/tickets?limit=25"]),
        ("queue, filtered", "/console/tickets/?assignee=me&status=open&priority=urgent",
         [f"{api}/tickets?assignee_id=me&status=open&priority=urgent&limit=25"]),
        ("dispute ticket", f"/console/tickets/{ticket.id}", [
            f"{api}/tickets/{ticket.id}",
            f"{api}/tickets/{ticket.id}/messages?limit=25",
            f"{api}/staff/jobs/{ticket.job_id}",
        ]),
        ("search: email", f"/console/people/?q={quote(email)}", [f"{api}/members/{members // 2}"]),
        ("search: name", f"/console/people/?q={quote(prefix)}", [
            f"{api}/members?q={quote(prefix)}&limit=10",
            f"{api}/customers?q={quote(prefix)}&limit=10",
        ]),
        ("member", f"/console/people/members/{busy_member}", [
            f"{api}/members/{busy_member}",
            f"{api}/staff/jobs?member_id={busy_member}&limit=20",
        ]),
        ("customer", f"/console/people/customers/{busy_customer}", [
            f"{api}/customers/{busy_customer}",
            f"{api}/staff/jobs?customer_id={busy_customer}&limit=20",
        ]),
        # onboarding review (console/onboarding.py): the queue, a tab, an application; the
        # queue's tabs with their counts are a request of their own (the page loads them)
        ("onboarding queue", "/console/onboarding/", [f"{api}/applications?limit=25"]),
        ("onboarding tabs", "/console/onboarding/step-tabs",
         [f"{api}/applications/step-counts"]),
        ("onboarding: call", "/console/onboarding/?step=intro_call&country=DE", [
            f"{api}/applications?step=intro_call&country=DE&limit=25",
        ]),
        ("onboarding: call, tabs", "/console/onboarding/step-tabs?step=intro_call&country=DE",
         [f"{api}/applications/step-counts?country=DE"]),
        ("application", f"/console/onboarding/applications/{application_id}", [
            f"{api}/applications/{application_id}",
        ]),
        # Programmes (console/programmes.py): the hub, mentoring, a top-performer run.
        ("programmes hub", "/console/programmes/", [
            f"{api}/mentorships?status=active&limit=1",
            f"{api}/mentorships/unmatched?limit=1",
            f"{api}/top-performer-runs?limit=1",
            f"{api}/events?upcoming=true&limit=1",
        ]),
        ("mentoring", "/console/programmes/mentoring", [
            f"{api}/mentorships?limit=25",
            f"{api}/mentorships/unmatched?limit=25",
        ]),
        ("top-performer run", f"/console/programmes/top-performers/runs/{run_id}", [
            f"{api}/top-performer-runs/{run_id}",
            f"{api}/top-performer-runs/{run_id}/decisions?limit=25",
        ]),
        # Exports area: the members list (CM), payouts and settings (admin: a 4th element).
        ("members list", "/console/people/members", [f"{api}/members?limit=50"]),
        ("members, filtered", "/console/people/members?status=active&postcode_prefix=1&min_level=2",
         [f"{api}/members?status=active&postcode_prefix=1&min_level=2&limit=50"]),
        ("members by plan", "/console/people/members?plan=standard&country=DE",
         [f"{api}/members?country=DE&limit=50"]),
        ("payouts", "/console/payouts/",
         [f"{api}/payouts/runs?limit=10", f"{api}/payouts/runs/1?limit=50"], "admin"),
        ("payouts, held", "/console/payouts/?status=held&run_id=3",
         [f"{api}/payouts/runs/3?status=held&limit=50"], "admin"),
        ("settings", "/console/settings/", [
            f"{api}/settings", f"{api}/audit-log?endpoint=settings.change_settings&limit=25",
        ], "admin"),
    ]  # fmt: skip
    # Programmes: broadcasts, a broadcast to every active member, moderation, articles.
    pages += comms_pages(url, api)
    # Insight (console/insight.py): the dashboard and each chart, the default period and a
    # filtered one; the floor is the API call(s) the figures come from.
    sources = {
        "health": f"{api}/crowd-health",
        "service": f"{api}/crowd-health/service",
        "programmes": f"{api}/programmes/health",
        "funnel": f"{api}/recruitment/funnel",
    }
    pages.append(("insight", "/console/insight/", list(sources.values())))
    pages.append(("insight, DE-80", "/console/insight/?country=DE&postcode_prefix=80",
                  [f"{url}?country=DE" + ("&postcode_prefix=80" if "crowd-health" in url else "")
                   for url in sources.values()]))  # fmt: skip
    for name, (source, _build) in CHARTS.items():
        pages.append(
            (f"insight chart {name}", f"/console/insight/charts/{name}.svg", [sources[source]])
        )
    # Dispatch (console/dispatch.py): the board, filtered, and an escalated job's page.
    with app.app_context():
        escalated = db.session.execute(text(
            "SELECT id FROM jobs WHERE escalated_at IS NOT NULL AND status = 'open' "
            "ORDER BY id DESC LIMIT 1"
        )).scalar()  # fmt: skip
        db.session.remove()
    board_filter = "escalated=yes&region=DE-10&min_waves=1"
    pages += [
        ("dispatch board", "/console/dispatch/", [f"{api}/staff/dispatch-board?limit=25"]),
        ("board, filtered", f"/console/dispatch/?{board_filter}",
         [f"{api}/staff/dispatch-board?{board_filter}&limit=25"]),
        ("dispatch job", f"/console/dispatch/jobs/{escalated}", [
            f"{api}/staff/jobs/{escalated}",
            f"{api}/jobs/{escalated}/events?limit=100",
            f"{api}/jobs/{escalated}/candidates?limit=20",
            f"{api}/jobs/{escalated}/candidates/ineligible?limit=10",
        ]),
    ]  # fmt: skip
    if args.only:
        pages = [page for page in pages if args.only in page[0]]
    cm_headers = {"Authorization": f"Bearer {token}"}
    admin_headers = {"Authorization": f"Bearer {admin_token}"}
    client = console_client(app, "cm1@bench.test", totp)
    admin_client = console_client(app, "admin@bench.test", admin_totp)
    api_client = app.test_client()
    results = []
    print(f"\n{args.warmup} warm-up + {args.requests} timed requests per page and API floor")
    for label, page, calls, *who in pages:
        page_client, headers = (
            (admin_client, admin_headers) if who == ["admin"] else (client, cm_headers)
        )
        for _ in range(args.warmup):
            timed(page_client, page)
            for call in calls:
                timed(api_client, call, headers)
        page_ms, api_ms = [], []
        for _ in range(args.requests):
            page_ms.append(timed(page_client, page))
            api_ms.append(sum(timed(api_client, call, headers) for call in calls))
        results.append((label, page, calls, page_ms, api_ms))
        print(f"  {label:28} p50 {statistics.median(page_ms):6.1f} ms  "
              f"p95 {percentile(page_ms, 95):6.1f} ms", flush=True)  # fmt: skip

    print()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (1, 5, 15 min)")
    print(f"{counts['members']:,} members, {counts['jobs']:,} jobs, {counts['tickets']:,} tickets; "
          f"{args.requests} timed requests each, server time in-process (test client)")  # fmt: skip
    print()
    print("| page | page p50 | page p95 | API p50 | API p95 | page ÷ API (p50) | p95 ≤ 150 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    failed = 0
    for label, page, _calls, page_ms, api_ms in results:
        p95 = percentile(page_ms, 95)
        ok = p95 <= TARGET_MS
        failed += not ok
        print(
            f"| {label} `{page.split('?')[0]}` | {statistics.median(page_ms):.1f} ms | "
            f"{p95:.1f} ms | {statistics.median(api_ms):.1f} ms | "
            f"{percentile(api_ms, 95):.1f} ms | "
            f"{statistics.median(page_ms) / statistics.median(api_ms):.2f}× | "
            f"{'PASS' if ok else 'FAIL'} |"
        )
    print()
    for label, page, calls, _page_ms, _api_ms in results:
        print(f"  {label}: {page}  vs  " + " + ".join(calls))
    print(
        f"\ntarget p95 ≤ {TARGET_MS:.0f} ms: {len(results) - failed}/{len(results)} pages met. "
        f"Run time {time.perf_counter() - started:.0f} s."
    )
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
