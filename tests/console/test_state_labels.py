"""The domain's states in words (console.labels): the `state` filter turns a model's status
into its label in the page's language, and the pages show the label, never the raw value."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask_babel import force_locale

from accounts.models import User
from console.labels import STATE_LABELS, state_label
from crowd.extensions import db
from jobs.models import JOB_STATUSES, OFFER_STATUSES
from members.models import MEMBER_STATUSES
from onboarding.models import APPLICATION_STATUSES
from onboarding.steps import STATES as STEP_STATES
from payouts.models.payout_runs import PAYOUT_RUN_STATUSES, PAYOUT_STATUSES
from support.models import STATUSES as TICKET_STATUSES
from tests.console.helpers import make_staff, sign_in
from tests.console.test_dispatch import jobs  # noqa: F401 (a fixture)
from tests.console.test_onboarding import queue  # noqa: F401 (a fixture)
from tests.jobs.conftest import force_job_state
from tests.onboarding.conftest import default_ladder  # noqa: F401 (a fixture)

# A raw state word with an underscore, as a model stores it.
RAW = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


class _Text(HTMLParser):
    """A page's visible text: what is between the tags (no attributes, scripts or styles)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _signed_in(client, locale: str):
    staff = make_staff()
    db.session.get(User, staff.user_id).locale = locale
    db.session.commit()
    assert sign_in(client, staff).status_code == 303
    return staff


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


# --- the labels -------------------------------------------------------------------------------


def test_known_words_read_naturally_and_unknown_ones_stay_as_they_are(app):
    with app.test_request_context():
        assert state_label("in_progress") == "in progress"
        assert state_label("waiting_on_customer") == "waiting on customer"
        assert state_label("not_required") == "not required"
        assert state_label("open") == "open"
        assert state_label("frobnicated_twice") == "frobnicated_twice"
        assert state_label(None) == "–"


def test_a_label_is_translated_in_the_current_locale(app):
    with app.test_request_context(), force_locale("de"):
        assert state_label("submitted") == "eingereicht"
        assert state_label("failed") == "fehlgeschlagen"
        assert state_label("frobnicated") == "frobnicated"


@pytest.mark.parametrize(
    "statuses",
    [
        JOB_STATUSES,
        OFFER_STATUSES,
        TICKET_STATUSES,
        APPLICATION_STATUSES,
        STEP_STATES,
        MEMBER_STATUSES,
        PAYOUT_STATUSES,
        PAYOUT_RUN_STATUSES,
    ],
)
def test_every_state_of_the_models_has_a_label_without_underscores(statuses):
    for status in statuses:
        assert status in STATE_LABELS, status
        assert "_" not in STATE_LABELS[status], status


def test_the_filter_is_there_for_console_templates(app):
    assert app.jinja_env.filters["state"] is state_label


# --- the pages --------------------------------------------------------------------------------


def test_the_dispatch_board_and_a_jobs_page_show_labels_not_raw_states(client, jobs):  # noqa: F811
    _signed_in(client, "de")
    board = visible_text(_page(client, "/console/dispatch/"))
    assert "angeboten" in board
    assert " offered " not in board
    assert not RAW.findall(board), RAW.findall(board)

    force_job_state(jobs["offered"], status="in_progress")
    job_html = _page(client, f"/console/dispatch/jobs/{jobs['offered']}")
    job = visible_text(job_html)
    assert 'data-job-status="in_progress"' in job_html  # the attribute keeps the value
    assert "in Arbeit" in job
    assert "in_progress" not in job

    # The member's page lists the job they work on by its label too.
    force_job_state(jobs["offered"], assigned_member_id=jobs["munich"].profile_id)
    member = visible_text(_page(client, f"/console/people/members/{jobs['munich'].profile_id}"))
    assert "in Arbeit" in member
    assert not RAW.findall(member), RAW.findall(member)


def test_the_onboarding_queue_and_an_application_show_labels_not_raw_states(
    client,
    queue,  # noqa: F811
):
    _signed_in(client, "de")
    html = _page(client, "/console/onboarding/")
    text = visible_text(html)
    # Munich's identity document waits for a decision: "submitted" in German.
    assert "eingereicht" in text
    assert "geplant" in text  # Vienna's intro call
    assert not RAW.findall(text.replace("application_ids", "")), RAW.findall(text)

    application = _page(client, f"/console/onboarding/applications/{queue['munich']}")
    shown = visible_text(application)
    assert 'data-application-status="in_progress"' in application
    assert "in Arbeit" in shown
    assert "in_progress" not in shown and "not_required" not in shown
