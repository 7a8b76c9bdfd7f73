"""The dispatch board and a job's dispatch page (Flask test client): filters, CSV, the
candidates' score breakdown and the near misses, each action with its refusals, and who may."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from accounts.models import User
from console import sessions
from crowd.extensions import db
from jobs.matching import WEIGHTS
from jobs.models import Job, Offer
from tests.console.helpers import csrf_of, make_staff, sign_in
from tests.factories import make_actor
from tests.jobs.conftest import active_member, drain_background, post_job_via_api
from tests.jobs.test_targeted_offers import escalated_job

PAGE = "/console/dispatch"


@pytest.fixture
def console_cm(client):
    staff = make_staff()
    assert sign_in(client, staff).status_code == 303
    return staff


def _page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def _post(client, job_id: int, action: str, expect: int = 303, **fields) -> str:
    token = csrf_of(_page(client, f"{PAGE}/jobs/{job_id}"))
    response = client.post(f"{PAGE}/jobs/{job_id}/{action}", data={"csrf_token": token, **fields})
    assert response.status_code == expect, response.get_data(as_text=True)[:3000]
    return response.get_data(as_text=True)


def _job(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def _offers(job_id: int) -> list[tuple[int, str]]:
    db.session.expire_all()
    query = select(Offer.member_id, Offer.status).where(Offer.job_id == job_id)
    return [tuple(row) for row in db.session.execute(query.order_by(Offer.id))]


MUNICH = {
    "street": "Leopoldstraße 1",
    "postcode": "80802",
    "city": "München",
    "country": "DE",
    "lat": 48.16,
    "lon": 11.586,
}


@pytest.fixture
def jobs(app, client, customer):
    """An escalated job in Berlin (nobody could take it when posted; a member who can came
    later) and an offered one in Munich (a member there got the first wave)."""
    escalated = escalated_job(app, client, customer)
    berliner = active_member()
    munich = active_member(lat=MUNICH["lat"], lon=MUNICH["lon"])
    # Brandenburg an der Havel, 60 km from the Berlin job, travels 30 km: a near miss.
    near = active_member(lat=52.40, lon=12.55, radius_km=30)
    response = post_job_via_api(client, customer, title="Fix the soundbar", address=MUNICH)
    assert response.status_code == 201, response.get_json()
    drain_background(app)
    offered = response.get_json()["id"]
    assert _offers(offered) == [(munich.profile_id, "pending")]
    return {
        "escalated": escalated,
        "offered": offered,
        "berliner": berliner,
        "munich": munich,
        "near": near,
    }


# --- the board --------------------------------------------------------------------------------


def test_the_board_shows_waiting_jobs_with_escalated_ones_flagged(client, console_cm, jobs):
    html = _page(client, f"{PAGE}/")
    assert f'data-job="{jobs["escalated"]}" class="escalated" data-escalated="yes"' in html
    assert f'data-job="{jobs["offered"]}">' in html
    assert "DE-80802 München" in html
    assert "2 jobs waiting" in html


@pytest.mark.parametrize(
    "query, expected",
    [
        ("escalated=yes", {"escalated"}),
        ("escalated=no", {"offered"}),
        ("region=DE-80", {"offered"}),
        ("region=DE-10", {"escalated"}),
        ("region=AT", set()),
        ("category=tv_audio", {"escalated", "offered"}),
        ("category=it_network", set()),
        ("status=offered", {"offered"}),
        ("min_waves=1", {"offered"}),
        ("max_waves=0", {"escalated"}),
        ("starts_from=2000-01-01T00:00&starts_until=2100-01-01T00:00", {"escalated", "offered"}),
        ("starts_until=2000-01-01T00:00", set()),
    ],
)
def test_the_board_filters(client, console_cm, jobs, query, expected):
    html = _page(client, f"{PAGE}/?{query}")
    shown = {name for name in ("escalated", "offered") if f'data-job="{jobs[name]}"' in html}
    assert shown == expected


@pytest.mark.parametrize(
    "query, message",
    [
        ("region=Bavaria", "region"),
        ("min_waves=3&max_waves=1", "max_waves"),
        ("starts_from=2030-01-02T00:00&starts_until=2030-01-01T00:00", "starts_until"),
    ],
)
def test_bad_filters_show_the_board_again_with_the_reason(client, console_cm, jobs, query, message):
    html = _page(client, f"{PAGE}/?{query}", status=422)
    assert 'role="alert"' in html and message in html
    assert "data-job=" not in html


def test_the_board_pages(app, client, customer, console_cm):
    ids = [escalated_job(app, client, customer) for _ in range(27)]
    first = _page(client, f"{PAGE}/?escalated=yes")
    assert "27 jobs waiting" in first
    assert f'data-job="{ids[0]}"' in first and f'data-job="{ids[26]}"' not in first
    next_url = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = _page(client, next_url.replace("&amp;", "&"))
    assert f'data-job="{ids[26]}"' in second and f'data-job="{ids[0]}"' not in second


def test_the_csv_has_the_filtered_board(client, console_cm, jobs):
    response = client.get(f"{PAGE}/board.csv?region=DE-80")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "dispatch-board-" in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0][:3] == ["job_id", "status", "escalated"]
    assert [row[0] for row in table[1:]] == [str(jobs["offered"])]
    row = dict(zip(table[0], table[1], strict=True))
    assert (row["status"], row["waves_sent"], row["offers_out"]) == ("offered", "1", "1")
    assert row["seconds_to_first_offer"] != "" and row["seconds_to_assignment"] == ""
    everything = client.get(f"{PAGE}/board.csv").get_data(as_text=True)
    assert len(everything.strip().splitlines()) == 3


def test_a_bad_filter_on_the_csv_is_the_board_with_the_reason(client, console_cm, jobs):
    response = client.get(f"{PAGE}/board.csv?escalated=maybe")
    assert response.status_code == 422
    assert response.mimetype == "text/html"


# --- a job's page ---------------------------------------------------------------------------


def test_the_job_page_shows_candidates_with_their_breakdown_and_the_near_misses(
    client, console_cm, jobs
):
    html = _page(client, f"{PAGE}/jobs/{jobs['escalated']}")
    berliner, near = jobs["berliner"].profile_id, jobs["near"].profile_id
    assert f'data-candidate="{berliner}"' in html
    for name in WEIGHTS:
        assert f'data-component="{name}"' in html
    # The same figures as GET /jobs/{id}/candidates.
    api = client.get(
        f"/api/v1/jobs/{jobs['escalated']}/candidates",
        headers=make_actor("community_manager").headers,
    ).get_json()
    (candidate,) = api["items"]
    assert f'<td class="num" data-score>{candidate["score"]:.1f}</td>' in html
    # The Brandenburg member holds the skill but does not travel so far: a near miss.
    assert f'data-ineligible="{near}"' in html
    assert "beyond the service radius" in html
    assert 'data-escalated="yes"' in html
    assert 'data-action="escalate"' in html  # the history


def test_send_another_wave(client, console_cm, jobs):
    job_id = jobs["escalated"]
    _post(client, job_id, "dispatch")
    assert _offers(job_id) == [(jobs["berliner"].profile_id, "pending")]
    job = _job(job_id)
    assert (job.status, job.escalated_at) == ("offered", None)
    html = _page(client, f"{PAGE}/jobs/{job_id}?done=wave")
    assert 'data-done="wave"' in html


def test_a_wave_with_offers_pending_is_refused_with_the_reason(client, console_cm, jobs):
    html = _post(client, jobs["offered"], "dispatch", expect=409)
    assert 'role="alert"' in html and "Cannot dispatch a job that is offered" in html
    assert _offers(jobs["offered"]) == [(jobs["munich"].profile_id, "pending")]


def test_offer_to_a_chosen_candidate(client, console_cm, jobs):
    job_id, berliner = jobs["escalated"], jobs["berliner"]
    _post(client, job_id, "offers", member_id=str(berliner.profile_id))
    assert _offers(job_id) == [(berliner.profile_id, "pending")]
    assert _job(job_id).escalated_at is None
    # The member sees it through the API.
    mine = client.get("/api/v1/me/offers", headers=berliner.headers).get_json()["items"]
    assert [o["job"]["id"] for o in mine] == [job_id]


def test_an_offer_to_an_ineligible_member_is_refused_with_the_reasons(client, console_cm, jobs):
    job_id = jobs["escalated"]
    html = _post(client, job_id, "offers", expect=422, member_id=str(jobs["munich"].profile_id))
    assert 'role="alert"' in html and "beyond the service radius" in html
    assert _offers(job_id) == []
    assert _job(job_id).escalated_at is not None


def test_an_offer_twice_is_refused(client, console_cm, jobs):
    html = _post(
        client, jobs["offered"], "offers", expect=409, member_id=str(jobs["munich"].profile_id)
    )
    assert "never offered twice" in html


def test_an_offer_without_a_member_is_422(client, console_cm, jobs):
    html = _post(client, jobs["escalated"], "offers", expect=422, member_id="abc")
    assert "member_id" in html


def test_assign_a_chosen_candidate(client, console_cm, jobs):
    job_id, berliner = jobs["escalated"], jobs["berliner"]
    _post(client, job_id, "assign", member_id=str(berliner.profile_id))
    job = _job(job_id)
    assert (job.status, job.assigned_member_id) == ("assigned", berliner.profile_id)
    mine = client.get("/api/v1/me/jobs", headers=berliner.headers).get_json()["items"]
    assert [j["id"] for j in mine] == [job_id]
    html = _page(client, f"{PAGE}/jobs/{job_id}")
    assert "nothing to dispatch" in html


def test_assigning_an_ineligible_member_needs_the_override_and_a_reason(client, console_cm, jobs):
    job_id, munich = jobs["escalated"], jobs["munich"].profile_id
    html = _post(client, job_id, "assign", expect=422, member_id=str(munich))
    assert "beyond the service radius" in html
    html = _post(client, job_id, "assign", expect=422, member_id=str(munich), override="yes")
    assert "reason" in html
    assert _job(job_id).assigned_member_id is None
    _post(client, job_id, "assign", member_id=str(munich), override="yes", reason="Agreed by phone")
    assert _job(job_id).assigned_member_id == munich


def test_an_assigned_job_is_refused_further_actions(client, console_cm, jobs):
    job_id = jobs["escalated"]
    _post(client, job_id, "assign", member_id=str(jobs["berliner"].profile_id))
    other = active_member()
    html = _post(client, job_id, "offers", expect=409, member_id=str(other.profile_id))
    assert "assigned" in html
    _post(client, job_id, "dispatch", expect=409)


def test_an_unknown_job_is_404(client, console_cm):
    assert client.get(f"{PAGE}/jobs/424242").status_code == 404


# --- who may ----------------------------------------------------------------------------------


def test_every_dispatch_form_needs_the_csrf_token(client, console_cm, jobs):
    job_id = jobs["escalated"]
    member_id = str(jobs["berliner"].profile_id)
    for action in ("dispatch", "offers", "assign"):
        response = client.post(f"{PAGE}/jobs/{job_id}/{action}", data={"member_id": member_id})
        assert response.status_code == 400, action
    assert _offers(job_id) == [] and _job(job_id).assigned_member_id is None


@pytest.mark.parametrize("role", ["member", "customer"])
def test_members_and_customers_cannot_reach_dispatch(client, jobs, role):
    party = make_actor(role)
    job_id = jobs["escalated"]
    response = client.get(f"{PAGE}/", headers=party.headers)
    assert response.status_code == 303 and "/console/sign-in" in response.headers["Location"]
    secret, _row = sessions.start(
        db.session.get(User, party.user_id), verified=True, ip=None, user_agent=None
    )
    db.session.commit()
    client.set_cookie("crowd_console", secret, path="/console")
    for url in (f"{PAGE}/", f"{PAGE}/jobs/{job_id}", f"{PAGE}/board.csv"):
        response = client.get(url)
        # Not staff: the session does not count (to the sign-in), or the page is refused.
        assert response.status_code in (303, 403), url
        assert "Fix the soundbar" not in response.get_data(as_text=True)
    response = client.post(
        f"{PAGE}/jobs/{job_id}/assign", data={"member_id": str(jobs["berliner"].profile_id)}
    )
    assert response.status_code in (400, 403)
    assert _job(job_id).assigned_member_id is None


def test_an_admin_may_dispatch_too(client, jobs):
    admin = make_staff("admin")
    assert sign_in(client, admin).status_code == 303
    _post(client, jobs["escalated"], "offers", member_id=str(jobs["berliner"].profile_id))
    assert _offers(jobs["escalated"]) == [(jobs["berliner"].profile_id, "pending")]
