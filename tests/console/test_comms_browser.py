"""Programmes' communication in a real browser (Chromium via Playwright, a real server): a CM
signs in with TOTP, composes a broadcast in German and English, picks a segment and watches
the live count, sends it and sees it delivered; a recipient reads it through the API. And a
CM hides a reported post from the moderation queue. axe-core checks every page of the area."""

from __future__ import annotations

import pytest

from community.models import PostReport, TopicPost
from crowd.extensions import db
from tests.console.comms_helpers import API, member_in, reported_post
from tests.console.helpers import make_staff
from tests.factories import PASSWORD
from tests.helpcentre.conftest import published_article
from tests.jobs.conftest import drain_background

pytestmark = pytest.mark.committing

BASE = "/console/programmes"


def _signed_in_page(new_page, cm, locale: str = "en-US"):
    page = new_page(locale)
    page.goto("/console/sign-in")
    page.locator("input[name=email]").fill(cm.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.locator("input[name=code]").fill(cm.code())
    page.locator("main form.stack button[type=submit]").click()
    page.wait_for_url("**/console/my-work")
    return page


def test_a_cm_sends_a_bilingual_segment_broadcast_and_sees_it_delivered(
    app, client, new_page, screenshot, check_accessibility
):
    recipients = [member_in("Görlitz"), member_in("Görlitz")]
    member_in("Dresden")
    cm = make_staff()
    page = _signed_in_page(new_page, cm)

    page.goto(f"{BASE}/broadcasts")
    check_accessibility(page)
    page.locator("main a.button").click()
    assert page.url.endswith(f"{BASE}/broadcasts/new")
    page.locator("#kind").select_option("announcement")
    page.locator("#title_de").fill("Neue Aufträge in Görlitz")
    page.locator("#body_de").fill("Ab Montag gibt es Smart-Home-Aufträge.")
    page.locator("#title_en").fill("New jobs in Görlitz")
    page.locator("#body_en").fill("Smart-home jobs start on Monday.")
    # The live count: the whole active crowd first, then the city's two members.
    page.locator("[data-segment-count]").wait_for()
    page.locator("#cities").fill("Görlitz")
    count = page.locator('[data-segment-count="2"]')
    count.wait_for()
    assert "2" in count.inner_text()
    assert page.locator("#segment-preview table.sample tbody tr").count() == 2
    check_accessibility(page)
    screenshot(page, "compose")

    page.locator("form.compose button[type=submit]").click()
    page.wait_for_url("**/broadcasts/*")
    broadcast_id = int(page.url.split("/")[-1].split("?")[0])
    # Delivery runs in the background: inline after the commit without Redis, else through RQ
    # (run here as a worker would: drain_background); reload until it is sent.
    for _ in range(10):
        if page.locator('[data-status="sent"]').count():
            break
        drain_background(app)
        page.reload()
    assert page.locator('[data-status="sent"]').is_visible()
    assert int(page.locator('[data-count="delivered"]').inner_text()) == 2
    assert int(page.locator('[data-count="recipients"]').inner_text()) == 2
    assert page.locator("tr[data-recipient]").count() == 2
    assert "Neue Aufträge in Görlitz" in page.locator('[data-locale="de"]').inner_text()
    assert "New jobs in Görlitz" in page.locator('[data-locale="en"]').inner_text()
    check_accessibility(page)
    screenshot(page, "broadcast")

    # A recipient reads it in their language (English: the suite's default).
    mine = client.get(f"{API}/me/broadcasts", headers=recipients[0].headers).get_json()["items"]
    assert [(m["id"], m["title"]) for m in mine] == [(broadcast_id, "New jobs in Görlitz")]

    page.goto(f"{BASE}/broadcasts")
    assert page.locator(f'tr[data-broadcast="{broadcast_id}"][data-status="sent"]').is_visible()


def test_a_cm_hides_a_reported_post_from_the_queue(
    app, client, cm, new_page, screenshot, check_accessibility
):
    reported = reported_post(client, cm)
    published_article(client, cm, title="Anchors for drywall")
    staff = make_staff()
    page = _signed_in_page(new_page, staff, "de-DE")

    page.goto(f"{BASE}/moderation")
    report = page.locator(f'li.report[data-report="{reported["report_id"]}"]')
    assert "Cheap brackets here" in report.inner_text()
    check_accessibility(page)
    screenshot(page, "queue")
    report.locator("button.hide-post").click()
    page.wait_for_url("**/moderation?done=upheld")
    assert page.locator(f'li.report[data-report="{reported["report_id"]}"]').count() == 0
    db.session.expire_all()
    assert db.session.get(TopicPost, reported["post_id"]).hidden_at is not None
    assert db.session.get(PostReport, reported["report_id"]).status == "upheld"
    check_accessibility(page)

    # The help centre's pages, for the accessibility check.
    page.goto(f"{BASE}/articles")
    check_accessibility(page)
    page.locator("main table a").first.click()
    assert page.locator("#feedback").is_visible()
    check_accessibility(page)
    page.goto(f"{BASE}/articles/new")
    check_accessibility(page)
