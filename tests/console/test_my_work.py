"""My work through the Flask test client: tickets by deadline with the ones about to breach
flagged, unassigned tickets of my queues, escalated jobs, and the counts fragment."""

from __future__ import annotations

import re

from accounts.staff_alerts import set_alert_settings
from crowd.core.auth import Principal
from crowd.extensions import db
from tests.console.helpers import make_staff, seed_my_work, sign_in


def _row(html: str, attribute: str, value: int) -> str:
    found = re.search(rf'<tr class="([^"]*)" {attribute}="{value}">', html)
    assert found, f"no row {attribute}={value}"
    return found.group(1)


def test_my_tickets_by_deadline_the_one_about_to_breach_highlighted(client):
    cm = make_staff()
    ids = seed_my_work(client, cm.user_id)
    sign_in(client, cm)
    html = client.get("/console/my-work").get_data(as_text=True)
    assert _row(html, "data-ticket", ids["urgent"]) == "due-soon"
    assert _row(html, "data-ticket", ids["calm"]) == ""
    assert "about to breach" in html
    # Most urgent first.
    assert html.index(f'data-ticket="{ids["urgent"]}"') < html.index(f'data-ticket="{ids["calm"]}"')
    assert f'data-job="{ids["job"]}"' in html
    assert "Mount a TV in Zürich" in html


def test_unassigned_tickets_only_for_cms_answering_for_tickets(client):
    cm = make_staff()
    ids = seed_my_work(client, cm.user_id)
    sign_in(client, cm)
    assert f'data-ticket="{ids["unassigned"]}"' in client.get("/console/my-work").get_data(
        as_text=True
    )
    admin = Principal(user_id=cm.user_id, role="admin", token_id=0, via="session")
    set_alert_settings(actor=admin, user_id=cm.user_id, responsibilities=[{"queue": "dispatch"}])
    db.session.commit()
    html = client.get("/console/my-work").get_data(as_text=True)
    assert f'data-ticket="{ids["unassigned"]}"' not in html
    assert "Tickets are not among your queues." in html


def test_counts_fragment(client):
    cm = make_staff()
    seed_my_work(client, cm.user_id)
    sign_in(client, cm)
    html = client.get("/console/my-work/counts").get_data(as_text=True)
    assert "My tickets: <strong>2</strong>" in html
    assert 'class="alert"' in html and "Due soon: <strong>1</strong>" in html
    assert "Escalated jobs: <strong>1</strong>" in html


def test_nav_links_every_area_a_cm_may_use(client):
    cm = make_staff()
    sign_in(client, cm)
    html = client.get("/console/my-work").get_data(as_text=True)
    assert 'href="/console/my-work" aria-current="page"' in html
    for area in ("tickets/", "people/", "dispatch/", "onboarding/", "programmes/", "insight/"):
        assert f'href="/console/{area}"' in html
    # Admins' areas are not offered to a community manager.
    assert 'href="/console/payouts/"' not in html and 'href="/console/settings/"' not in html
    assert "(coming)" not in html


def test_counts_poll_after_the_session_ended_sends_htmx_to_sign_in(client):
    response = client.get("/console/my-work/counts", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/console/sign-in")


def test_unknown_console_pages_are_an_html_404(client):
    response = client.get("/console/no-such-page")
    assert response.status_code == 404
    assert "text/html" in response.content_type
    assert client.get("/console/static/console.css").status_code == 200
