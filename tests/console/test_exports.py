"""The console's CSV downloads and the tables they come from, through the Flask test client:
the ticket queue's export (its filters, every matching row, streamed), the members list
(filters, keyset pages, plan) and its export, the payouts page (runs, payouts filtered by
status, run, member and day) and its export, and who may fetch each."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from accounts.models import User
from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.extensions import db
from members.models import Member, MemberSkill, Skill
from payouts.models.payout_runs import Payout, PayoutRun
from payouts.plans import assign_plan, create_plan
from support.models import Ticket
from tests.console.helpers import make_staff, sign_in
from tests.factories import make_actor

MANY = 3_000


@pytest.fixture
def cm(client):
    staff = make_staff()
    assert sign_in(client, staff).status_code == 303
    return staff


@pytest.fixture
def admin(client):
    staff = make_staff("admin")
    assert sign_in(client, staff).status_code == 303
    return staff


def _csv(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def _streamed(client, url: str) -> tuple[int, list[dict]]:
    """(chunks the body came in, the rows): the body is produced while it is read."""
    response = client.get(url, buffered=False)
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    assert response.is_streamed
    chunks = list(response.response)
    text = b"".join(chunks).decode()
    response.close()
    return len(chunks), list(csv.DictReader(io.StringIO(text[1:])))


def _users(count: int, role: str, prefix: str) -> list[int]:
    now = utcnow()
    first = db.session.scalar(select(User.id).order_by(User.id.desc()).limit(1)) or 0
    db.session.execute(
        insert(User),
        [
            {
                "email": f"{prefix}{n}@bulk.test",
                "password_hash": "x",
                "role": role,
                "display_name": f"{prefix} {n}",
                "created_at": now,
                "updated_at": now,
            }
            for n in range(count)
        ],
    )
    return list(
        db.session.scalars(
            select(User.id).where(User.id > first, User.email.like(f"{prefix}%@bulk.test"))
        )
    )


def _members(count: int, **values) -> list[int]:
    """`count` members (bulk inserted), with these column values."""
    user_ids = _users(count, "member", f"m{values.get('postcode', 'x')}{values.get('status', '')}")
    now = utcnow()
    rows = [
        {
            "user_id": user_id,
            "kind": "private",
            "display_name": f"Bulk Member {user_id}",
            "status": "active",
            "status_changed_at": now,
            "created_at": now,
            "updated_at": now,
            "country": "DE",
            **values,
        }
        for user_id in user_ids
    ]
    db.session.execute(insert(Member), rows)
    return list(
        db.session.scalars(
            select(Member.id).where(Member.user_id.in_(user_ids)).order_by(Member.id)
        )
    )


# --- tickets --------------------------------------------------------------------------------


def _tickets(count: int, opener: int, **values) -> None:
    now = utcnow()
    db.session.execute(
        insert(Ticket),
        [
            {
                "subject": f"Bulk ticket {n}",
                "category": "other",
                "priority": "normal",
                "status": "open",
                "opened_by_id": opener,
                "opened_by_role": "customer",
                "first_response_due_at": now + timedelta(hours=n % 50),
                "resolution_due_at": now + timedelta(days=3, hours=n % 50),
                "created_at": now,
                "updated_at": now,
                **values,
            }
            for n in range(count)
        ],
    )


def test_the_ticket_export_streams_every_matching_ticket_not_one_page(client, cm):
    customer = make_actor("customer")
    _tickets(MANY, customer.user_id)
    _tickets(5, customer.user_id, priority="urgent", subject='=HYPERLINK("x") urgent')
    db.session.commit()
    html = client.get("/console/tickets/?priority=urgent").get_data(as_text=True)
    assert 'href="/console/tickets/export.csv?priority=urgent"' in html

    chunks, rows = _streamed(client, "/console/tickets/export.csv")
    assert chunks > 5  # written as it is read, not built in one piece
    assert len(rows) == MANY + 5
    assert list(rows[0]) == [
        "id", "subject", "category", "priority", "status", "dispute", "job_id", "customer_id",
        "member_id", "assignee", "sla_due_at", "created_at", "updated_at",
    ]  # fmt: skip
    # The queue's order: the nearest deadline first.
    dues = [row["sla_due_at"] for row in rows]
    assert dues == sorted(dues)

    urgent = _csv(client.get("/console/tickets/export.csv?priority=urgent"))
    assert len(urgent) == 5
    assert {row["priority"] for row in urgent} == {"urgent"}
    assert urgent[0]["subject"].startswith("'=HYPERLINK")  # defused


def test_the_ticket_export_applies_assignee_and_search(client, cm):
    customer = make_actor("customer")
    _tickets(3, customer.user_id, subject="Loose bracket", assignee_id=cm.user_id)
    _tickets(4, customer.user_id, subject="Invoice question")
    db.session.commit()
    mine = _csv(client.get("/console/tickets/export.csv?assignee=me"))
    assert len(mine) == 3
    assert {row["assignee"] for row in mine} != {""}
    found = _csv(client.get("/console/tickets/export.csv?q=invoice&assignee=none"))
    assert [row["subject"] for row in found] == ["Invoice question"] * 4
    assert client.get("/console/tickets/export.csv?sla_due_before=soon").status_code == 422


def test_exports_are_for_staff_only(client):
    customer = make_actor("customer")
    response = client.get("/console/tickets/export.csv")
    assert response.status_code == 303 and "/console/sign-in" in response.headers["Location"]
    member = make_actor("member")
    for who in (customer, member):
        staffless = client.get(
            "/console/people/members.csv", headers={"Authorization": f"Bearer {who.token}"}
        )
        assert staffless.status_code == 303  # a bearer token is no console session


# --- members --------------------------------------------------------------------------------


def test_the_members_list_filters_and_pages_by_50(client, cm):
    berlin = _members(60, postcode="10115", city="Berlin", level_rank=2)
    munich = _members(3, postcode="80331", city="München", status="paused", level_rank=1)
    db.session.commit()
    page = client.get("/console/people/members?postcode_prefix=101")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    shown = [m for m in berlin if f'data-member="{m}"' in html]
    assert shown == berlin[:50]
    assert not any(f'data-member="{m}"' in html for m in munich)
    assert "60 members" in html
    assert 'rel="next"' in html
    next_url = html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(next_url.replace("&amp;", "&")).get_data(as_text=True)
    assert [m for m in berlin if f'data-member="{m}"' in second] == berlin[50:]

    paused = client.get("/console/people/members?status=paused").get_data(as_text=True)
    assert all(f'data-member="{m}"' in paused for m in munich)
    assert not any(f'data-member="{m}"' in paused for m in berlin)
    level = client.get("/console/people/members?min_level=2&country=DE").get_data(as_text=True)
    assert f'data-member="{berlin[0]}"' in level and f'data-member="{munich[0]}"' not in level


def test_the_members_list_filters_by_skill_and_plan(client, cm, admin_actor):
    ids = _members(4, postcode="20095")
    skill = db.session.scalars(select(Skill).order_by(Skill.id)).first()
    db.session.add(MemberSkill(member_id=ids[0], skill_id=skill.id, proficiency=2))
    create_plan(actor=admin_actor, code="flat_bulk", name="Flat bulk", kind="flat_fee",
                percent_bp=0, monthly_fee_amount=2900, fee_currency="EUR")  # fmt: skip
    assign_plan(actor=admin_actor, member_id=ids[1], plan_code="flat_bulk")
    db.session.commit()
    by_skill = client.get(f"/console/people/members?skill={skill.slug}&postcode_prefix=20095")
    html = by_skill.get_data(as_text=True)
    assert f'data-member="{ids[0]}"' in html and f'data-member="{ids[1]}"' not in html
    flat = client.get("/console/people/members?plan=flat_bulk").get_data(as_text=True)
    assert f'data-member="{ids[1]}"' in flat and f'data-member="{ids[0]}"' not in flat
    standard = client.get("/console/people/members?plan=standard&postcode_prefix=20095")
    html = standard.get_data(as_text=True)
    assert f'data-member="{ids[0]}"' in html and f'data-member="{ids[1]}"' not in html
    rows = _csv(client.get("/console/people/members.csv?plan=flat_bulk"))
    assert [int(r["id"]) for r in rows] == [ids[1]]
    rows = _csv(client.get(f"/console/people/members.csv?skill={skill.slug}&postcode_prefix=2"))
    assert [(int(r["id"]), r["skills"]) for r in rows] == [(ids[0], skill.slug)]


@pytest.fixture
def admin_actor():
    actor = make_actor("admin")
    return Principal(user_id=actor.user_id, role="admin", token_id=None, via="test")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=gone", "status"),
        ("postcode_prefix=ab", "postcode_prefix"),
        ("skill=no-such-skill", "unknown skill"),
        ("plan=nope", "no such plan"),
        ("min_level=-1", "min_level"),
    ],
)
def test_a_bad_members_filter_shows_the_page_with_the_message(client, cm, query, message):
    response = client.get(f"/console/people/members?{query}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="filter-error"' in html and message in html
    assert client.get(f"/console/people/members.csv?{query}").status_code == 422


def test_the_members_export_streams_every_matching_member(client, cm):
    many = _members(MANY, postcode="30159", city="Hannover")
    _members(10, postcode="50667", city="=cmd|' /C calc'!A0")
    db.session.commit()
    chunks, rows = _streamed(client, "/console/people/members.csv?postcode_prefix=30")
    assert chunks > 5
    assert [int(row["id"]) for row in rows] == many
    assert rows[0]["email"].endswith("@bulk.test") and rows[0]["status"] == "active"
    cologne = _csv(client.get("/console/people/members.csv?postcode_prefix=506"))
    assert len(cologne) == 10 and cologne[0]["city"].startswith("'=")


# --- payouts --------------------------------------------------------------------------------


def _payouts(run_id: int, member_ids: list[int], **values) -> None:
    now = utcnow()
    db.session.execute(
        insert(Payout),
        [
            {
                "run_id": run_id,
                "member_id": member_id,
                "amount": 2500 + n,
                "currency": "EUR",
                "status": "paid",
                "created_at": now,
                "updated_at": now,
                **values,
            }
            for n, member_id in enumerate(member_ids)
        ],
    )


def _run(**values) -> int:
    run = PayoutRun(**{"status": "completed", "minimums": {"EUR": 2000}, "totals": {}, **values})
    db.session.add(run)
    db.session.flush()
    return run.id


def test_the_payouts_page_shows_runs_and_filters_payouts(client, admin):
    members = _members(5, postcode="01067")
    first = _run(totals={"EUR": {"count": 3, "amount": 7503, "held_count": 1, "held_amount": 900}})
    second = _run()
    _payouts(first, members[:3])
    _payouts(first, members[3:4], status="held", hold_reason="open dispute", amount=900)
    _payouts(second, members[4:], status="failed", failure_reason="account closed")
    old = db.session.scalars(select(Payout).where(Payout.run_id == second)).one()
    old.created_at = utcnow() - timedelta(days=40)
    db.session.commit()

    html = client.get("/console/payouts/").get_data(as_text=True)
    assert f'data-run="{first}"' in html and f'data-run="{second}"' in html
    assert "75.03 EUR" in html and "open dispute" in html
    assert html.count("data-payout=") == 5

    held = client.get("/console/payouts/?status=held").get_data(as_text=True)
    assert held.count("data-payout=") == 1 and 'data-payout-status="held"' in held
    of_run = client.get(f"/console/payouts/?run_id={second}").get_data(as_text=True)
    assert of_run.count("data-payout=") == 1 and "account closed" in of_run
    today = utcnow().date()
    recent = client.get(f"/console/payouts/?from={today - timedelta(days=7)}&to={today}")
    assert recent.get_data(as_text=True).count("data-payout=") == 4
    by_member = client.get(f"/console/payouts/?member_id={members[0]}").get_data(as_text=True)
    assert by_member.count("data-payout=") == 1

    bad = client.get(f"/console/payouts/?from={today}&to={today - timedelta(days=1)}")
    assert bad.status_code == 422 and 'id="filter-error"' in bad.get_data(as_text=True)
    assert client.get("/console/payouts/?status=lost").status_code == 422
    assert client.get("/console/payouts/export.csv?run_id=x").status_code == 422


def test_the_payouts_export_streams_every_matching_payout(client, admin):
    members = _members(MANY, postcode="04109")
    run = _run()
    _payouts(run, members)
    _payouts(run, members[:7], status="held", hold_reason="no payout account")
    db.session.commit()
    chunks, rows = _streamed(client, f"/console/payouts/export.csv?run_id={run}")
    assert chunks > 5 and len(rows) == MANY + 7
    assert rows[0]["amount_minor"].isdigit() and rows[0]["member"].startswith("Bulk Member")
    held = _csv(client.get(f"/console/payouts/export.csv?run_id={run}&status=held"))
    assert len(held) == 7 and {r["hold_reason"] for r in held} == {"no payout account"}


def test_payouts_are_for_admins_only(client, cm):
    refused = client.get("/console/payouts/")
    assert refused.status_code == 403
    assert client.get("/console/payouts/export.csv").status_code == 403
    nav = client.get("/console/my-work").get_data(as_text=True)
    assert 'href="/console/payouts/"' not in nav and ">Payouts<" not in nav
