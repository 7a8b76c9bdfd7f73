"""The health dashboard in a real browser (Chromium via Playwright, a real server): a CM signs in
with TOTP, opens Insight with a period and a region, every chart image loads (an SVG, natural
width > 0), and the numbers in the page's tables equal the API's figures fetched over HTTP with
the CM's own bearer token for the same filters. axe-core checks the page."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest

from console import insight_charts
from tests.console.helpers import make_staff
from tests.crowd_health.test_active_over_time import january_crowd
from tests.crowd_health.test_service_figures import DAY, seed_service_records
from tests.factories import PASSWORD

pytestmark = pytest.mark.committing

SOURCES = {
    "health": "/api/v1/crowd-health",
    "service": "/api/v1/crowd-health/service",
    "programmes": "/api/v1/programmes/health",
    "funnel": "/api/v1/recruitment/funnel",
}


def _http(live_server: str, path: str, *, data: dict | None = None, token: str | None = None):
    request = urllib.request.Request(
        live_server + path,
        data=json.dumps(data).encode() if data is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 (127.0.0.1)
        return json.loads(response.read())


def test_a_cm_opens_the_health_dashboard_and_its_numbers_equal_the_api(
    app, customer, live_server, new_page, screenshot, check_accessibility
):
    now = seed_service_records(customer)
    january_crowd()  # members active since January (status history): lines over time
    cm = make_staff()
    filters = {"from": (now - 9 * DAY).date().isoformat(), "country": "DE"}

    page = new_page()
    page.goto("/console/my-work")
    page.locator("input[name=email]").fill(cm.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.locator("input[name=code]").fill(cm.code())
    page.locator("main form.stack button[type=submit]").click()
    assert page.url.endswith("/console/my-work")

    # Through the nav, then the filters form.
    page.locator("nav.areas a", has_text="Insight").click()
    assert page.url.endswith("/console/insight/")
    page.locator("#f-from").fill(filters["from"])
    page.locator("#f-country").select_option("DE")
    svgs = []
    page.on(
        "response",
        lambda r: (
            svgs.append((r.url, r.status, r.headers.get("content-type")))
            if "/charts/" in r.url and "country=DE" in r.url
            else None
        ),
    )
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "country=DE" in page.url

    # Every chart image loads: an SVG, drawn (lazy images: scroll each into view first).
    images = page.locator(".insight-chart img")
    assert images.count() == len(insight_charts.CHARTS)
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        assert image.evaluate("img => img.naturalWidth") > 0
        assert image.get_attribute("alt")
    assert len({url for url, _status, _type in svgs}) == len(insight_charts.CHARTS)
    assert all(status == 200 and kind.startswith("image/svg+xml") for _u, status, kind in svgs)
    check_accessibility(page)
    screenshot(page, "insight")

    # The CM's own bearer token, over HTTP: the same figures for the same filters.
    token = _http(
        live_server, "/api/v1/auth/tokens", data={"email": cm.email, "password": PASSWORD}
    )["token"]
    query = "?" + urllib.parse.urlencode(filters)
    figures = {
        source: _http(live_server, path + query, token=token) for source, path in SOURCES.items()
    }
    compared = 0
    for name, (source, build) in insight_charts.CHARTS.items():
        chart = build(figures[source])
        table = page.locator(f"#table-{name}")
        for row in chart.rows:
            for column in chart.columns:
                cell = table.locator(f'tr[data-row="{row.key}"] td[data-column="{column.key}"]')
                value = row.values.get(column.key)
                assert cell.get_attribute("data-value") == ("null" if value is None else str(value))
                assert cell.inner_text() == insight_charts.shown(value, column.unit)
                compared += 1
    assert compared > 40
    # And a few cells against the API's JSON directly (not through the chart code).
    first_offer = figures["service"]["first_offer"]["minutes"]
    assert (
        page.locator(
            '#table-first-offer tr[data-row="p50"] td[data-column="minutes"]'
        ).get_attribute("data-value")
        == str(first_offer["p50"])
        == "30.0"
    )
    escalated = figures["service"]["escalation"]["escalated"]
    assert page.locator('#table-escalation tr[data-row="escalated"] td').first.inner_text() == str(
        escalated
    )
    active = figures["health"]["active_members"]["total"]
    assert page.locator('#table-working tr[data-row="total"] td').first.inner_text() == str(active)
    # Active members over time: a row per week of the period, each cell the API's count.
    over_time = figures["health"]["active_over_time"]
    weeks = page.locator("#table-active-regions-time tbody tr[data-row]")
    assert weeks.count() == len(over_time["periods"]) == 2
    for line in over_time["per_region"]:
        key = f"{line['country']}-{line['postcode_area']}"
        cells = page.locator(f'#table-active-regions-time td[data-column="{key}"]')
        assert [cells.nth(n).get_attribute("data-value") for n in range(cells.count())] == [
            str(n) for n in line["members"]
        ]
    # A and D in Berlin (10…), B in Munich (80…), active all along.
    assert [(r["postcode_area"], r["members"]) for r in over_time["per_region"]] == [
        ("10", [2, 2]),
        ("80", [1, 1]),
    ]
