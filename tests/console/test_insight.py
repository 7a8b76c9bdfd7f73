"""Insight (console/insight.py) through the Flask test client: the dashboard's tables equal the
API's figures for the same filters, each chart is an SVG of its own (with its own CSP) carrying
the values, bad filters come back as the page with the message, CSV downloads, and who may look.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from console import insight_charts
from crowd.core.db import utcnow
from crowd.extensions import db
from demo.insight_console import rate_closed_tickets
from support.models import Ticket, TicketRating
from tests.console.helpers import Staff, make_staff, post_form, sign_in
from tests.crowd_health.test_active_over_time import january_crowd
from tests.crowd_health.test_crowd_health import skill_id
from tests.crowd_health.test_service_figures import DAY, LIGHTS, seed_service_records
from tests.factories import PASSWORD, make_actor

PAGE = "/console/insight/"


@pytest.fixture
def service(customer):
    """The records of the service-figure tests (jobs, offers, reviews, tickets, ratings)."""
    return seed_service_records(customer)


@pytest.fixture
def signed_in_cm(client):
    staff = make_staff()
    assert sign_in(client, staff).status_code == 303
    return staff


def _cells(html: str, chart: str) -> dict:
    """{(row, column): data-value} of the chart's table on the page."""
    table = re.search(rf'<table class="insight-table" id="table-{chart}">(.*?)</table>', html, re.S)
    assert table, f"no table for {chart}"
    cells = {}
    for row, body in re.findall(r'<tr data-row="([^"]*)">(.*?)</tr>', table.group(1), re.S):
        for column, value in re.findall(r'data-column="([^"]+)" data-value="([^"]*)"', body):
            cells[(row, column)] = value
    return cells


def _api_value(value) -> str:
    return "null" if value is None else str(value)


def test_the_dashboard_tables_equal_the_apis_figures(client, cm, signed_in_cm, service):
    query = {"from": (service - 9 * DAY).date().isoformat()}
    response = client.get(PAGE, query_string=query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    apis = {
        "health": client.get("/api/v1/crowd-health", query_string=query, headers=cm.headers),
        "service": client.get(
            "/api/v1/crowd-health/service", query_string=query, headers=cm.headers
        ),
        "programmes": client.get(
            "/api/v1/programmes/health", query_string=query, headers=cm.headers
        ),
        "funnel": client.get("/api/v1/recruitment/funnel", query_string=query, headers=cm.headers),
    }
    figures = {}
    for source, api in apis.items():
        assert api.status_code == 200, api.get_json()
        figures[source] = api.get_json()
    service_api = figures["service"]
    # The new service figures, cell by cell.
    first = _cells(html, "first-offer")
    assert (
        first[("p50", "minutes")]
        == "30.0"
        == _api_value(service_api["first_offer"]["minutes"]["p50"])
    )
    assert first[("p90", "minutes")] == "102.0"
    fill = _cells(html, "fill-rate")
    assert fill[("within_1h", "rate")] == "0.3333"
    assert fill[("within_24h", "filled")] == "2"
    assert _cells(html, "escalation")[("escalated", "jobs")] == "2"
    assert _cells(html, "sla")[("first_response", "rate")] == "0.3333"
    assert _cells(html, "satisfaction")[("5", "ratings")] == "1"
    regions = _cells(html, "ratings-region")
    assert regions[("DE-10", "average")] == "4.0" and regions[("DE-80", "average")] == "2.0"
    # Every chart's every cell equals the API's figure the chart is built from.
    for name, (source, build) in insight_charts.CHARTS.items():
        chart = build(figures[source])
        cells = _cells(html, name)
        for row in chart.rows:
            for column in chart.columns:
                assert cells[(row.key, column.key)] == _api_value(row.values.get(column.key)), (
                    name,
                    row.key,
                    column.key,
                )


def test_each_chart_is_an_svg_with_its_values_and_a_csp_of_its_own(client, signed_in_cm, service):
    query = {"from": (service - 9 * DAY).date().isoformat()}
    for name in insight_charts.CHARTS:
        response = client.get(f"/console/insight/charts/{name}.svg", query_string=query)
        assert response.status_code == 200, name
        assert response.mimetype == "image/svg+xml"
        csp = response.headers["Content-Security-Policy"]
        assert csp.startswith("default-src 'none'") and "script-src" not in csp
        body = response.get_data(as_text=True)
        assert "<svg" in body and "<script" not in body and "http://kozea" not in body
        assert "cdn" not in body.lower()
    first = client.get("/console/insight/charts/first-offer.svg", query_string=query)
    text = first.get_data(as_text=True)
    assert ">30<" in text and ">102<" in text  # the values printed on the bars
    fill = client.get("/console/insight/charts/fill-rate.svg", query_string=query)
    assert "33.33 %" in fill.get_data(as_text=True)
    assert client.get("/console/insight/charts/nothing.svg").status_code == 404


def test_filters_reach_the_figures(client, signed_in_cm, service):
    start = (service - 9 * DAY).date().isoformat()
    html = client.get(
        PAGE, query_string={"from": start, "country": "DE", "postcode_prefix": "10"}
    ).get_data(as_text=True)
    assert _cells(html, "first-offer")[("p50", "minutes")] == "20.0"
    assert 'name="postcode_prefix" value="10"' in html
    # The chart links carry the filters.
    assert "charts/first-offer.svg?from=" in html and "postcode_prefix=10" in html
    svg = client.get(
        "/console/insight/charts/first-offer.svg",
        query_string={"from": start, "skill_id": skill_id(LIGHTS)},
    ).get_data(as_text=True)
    assert ">120<" in svg


@pytest.mark.parametrize(
    "query, field",
    [
        ({"from": "2026-13-01"}, "from"),
        ({"country": "FR"}, "country"),
        ({"skill_id": "999999"}, "skill_id"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "from"),
    ],
)
def test_bad_filters_show_the_page_with_the_message(client, signed_in_cm, query, field):
    response = client.get(PAGE, query_string=query)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="filter-error"' in html and field in html
    assert 'class="insight-chart"' not in html
    chart = client.get("/console/insight/charts/sla.svg", query_string=query)
    assert chart.status_code == 422 and chart.mimetype == "text/html"


def test_health_and_funnel_csv(client, signed_in_cm, service):
    query = {"from": (service - 9 * DAY).date().isoformat(), "country": "DE"}
    response = client.get("/console/insight/health.csv", query_string=query)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "health-" in response.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[0] == ["chart", "row", "label", "column", "unit", "value"]
    cells = {(c, r, col): v for c, r, _label, col, _unit, v in lines[1:]}
    # Country DE: the Vienna job is out; the Berlin and Munich jobs stay.
    assert cells[("escalation", "posted", "jobs")] == "3"
    assert cells[("first-offer", "p50", "minutes")] == "30.0"
    funnel = client.get("/console/insight/funnel.csv", query_string=query)
    assert funnel.status_code == 200
    rows = list(csv.reader(io.StringIO(funnel.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["source", "channel_id", "channel_code", "channel_name", "applied"]
    assert rows[-1][0] == "total"
    bad = client.get("/console/insight/health.csv", query_string={"country": "FR"})
    assert bad.status_code == 422


def test_only_signed_in_staff_see_insight(client):
    assert client.get(PAGE).status_code in (302, 303)
    assert client.get("/console/insight/charts/sla.svg").status_code in (302, 303)
    for role in ("member", "customer"):
        actor = make_actor(role)
        # API tokens do not open console pages; the console sign-in refuses them.
        assert client.get(PAGE, headers=actor.headers).status_code in (302, 303)
        refused = sign_in(client, Staff(actor.user_id, actor.email, role))
        assert refused.status_code == 403


def test_a_cm_without_the_second_factor_is_sent_to_it(client):
    staff = make_staff()
    response = post_form(client, "/console/sign-in", email=staff.email, password=PASSWORD)
    assert response.status_code == 303
    page = client.get(PAGE)
    assert page.status_code in (302, 303)
    assert "/console/two-factor" in page.headers["Location"]


def test_the_nav_links_insight(client, signed_in_cm):
    html = client.get("/console/my-work").get_data(as_text=True)
    assert 'href="/console/insight/"' in html


def test_without_a_period_the_dashboard_shows_the_last_180_days(client, signed_in_cm):
    html = client.get(PAGE).get_data(as_text=True)
    start = (utcnow().date() - timedelta(days=179)).isoformat()
    assert f'name="from" type="date" value="{start}"' in html
    assert f"charts/retention.svg?from={start}" in html


def test_the_demo_rates_closed_tickets_for_the_satisfaction_chart(customer, member):
    ticket = Ticket(
        subject="Help",
        category="quality_complaint",
        status="closed",
        customer_id=customer.profile_id,
        member_id=member.profile_id,
        opened_by_id=customer.user_id,
        opened_by_role="customer",
        first_response_due_at=utcnow(),
        resolution_due_at=utcnow(),
    )
    db.session.add(ticket)
    db.session.commit()
    assert rate_closed_tickets().startswith("insight: 2 ticket ratings")
    parties = db.session.scalars(
        select(TicketRating.party).where(TicketRating.ticket_id == ticket.id)
    )
    assert sorted(parties) == ["customer", "member"]


def test_active_members_over_time_per_region_and_skill(client, cm, signed_in_cm):
    january_crowd()  # tests/crowd_health/test_active_over_time.py: three weeks of January 2026
    query = {"from": "2026-01-05", "to": "2026-01-25"}
    html = client.get(PAGE, query_string=query).get_data(as_text=True)
    api = client.get("/api/v1/crowd-health", query_string=query, headers=cm.headers).get_json()
    regions = _cells(html, "active-regions-time")
    assert [regions[(week, "DE")] for week in ("2026-01-05", "2026-01-12", "2026-01-19")] == [
        "1",
        "3",
        "3",
    ]
    assert [regions[(week, "AT")] for week in ("2026-01-05", "2026-01-12", "2026-01-19")] == [
        "1",
        "1",
        "0",
    ]
    skills = _cells(html, "active-skills-time")
    for line in api["active_over_time"]["per_skill"]:
        assert [
            skills[(week, str(line["skill_id"]))]
            for week in ("2026-01-05", "2026-01-12", "2026-01-19")
        ] == [str(n) for n in line["members"]]
    # Within a country: per postcode area.
    html = client.get(PAGE, query_string={**query, "country": "DE"}).get_data(as_text=True)
    areas = _cells(html, "active-regions-time")
    assert areas[("2026-01-19", "DE-10")] == "2" and areas[("2026-01-19", "DE-80")] == "1"
    # The chart: one line per region, with its name and last value at its end.
    svg = client.get(
        "/console/insight/charts/active-regions-time.svg", query_string=query
    ).get_data(as_text=True)
    assert "DE: 3" in svg and "AT: 0" in svg and "stroke-dasharray" in svg
    # And the CSV.
    rows = list(
        csv.reader(
            io.StringIO(
                client.get("/console/insight/health.csv", query_string=query)
                .get_data(as_text=True)
                .lstrip("\ufeff")
            )
        )
    )
    assert ["active-regions-time", "2026-01-12", "2026-01-12", "DE", "count", "3"] in rows
