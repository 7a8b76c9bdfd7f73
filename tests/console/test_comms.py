"""Programmes' communication pages through the Flask test client: broadcasts (list with reach,
compose in German and English with the segment's live count, send now or later, unschedule, a
broadcast's page, the recipients' CSV), help-centre articles (list, write, new version,
publish, archive, the feedback summary) and topic-group moderation (hide, dismiss, mute, lift),
each with its refusals, CSRF and who may use them."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts.models import User
from community.models import CommunityMute, PostReport, TopicPost
from console.web import NAV
from crowd.core.db import utcnow
from crowd.extensions import db
from helpcentre.models import ArticleVersion, HelpArticle
from mentoring.models import Broadcast
from tests.console.comms_helpers import API, member_in, reported_post, sent_broadcast
from tests.console.helpers import csrf_of, make_staff, post_form, sign_in
from tests.factories import PASSWORD, make_actor
from tests.helpcentre.conftest import create_article, create_category, published_article
from tests.jobs.conftest import drain_background

BASE = "/console/programmes"


@pytest.fixture
def staff(client):
    person = make_staff()
    assert sign_in(client, person).status_code == 303
    return person


def _html(response) -> str:
    return response.get_data(as_text=True)


def _compose(client, **overrides):
    form = {
        "kind": "announcement",
        "title_de": "Neue Skills",
        "body_de": "Ab Montag gibt es Smart-Home-Aufträge.",
        "title_en": "New skills",
        "body_en": "Smart-home jobs start on Monday.",
        "cities": "Lübeck",
        "when": "now",
        **overrides,
    }
    return post_form(client, f"{BASE}/broadcasts/new", **form)


def _broadcasts() -> list[Broadcast]:
    db.session.expire_all()
    return list(db.session.scalars(select(Broadcast).order_by(Broadcast.id)))


# --- broadcasts ---------------------------------------------------------------------------------


def test_the_list_shows_each_broadcast_with_its_delivery_and_read_counts(app, client, cm, staff):
    reader = member_in("Kiel")
    member_in("Kiel")
    broadcast_id = sent_broadcast(app, client, cm, "Kiel", title="Kiel news")
    read = client.post(f"{API}/me/broadcasts/{broadcast_id}/read", headers=reader.headers)
    assert read.status_code == 200
    html = _html(client.get(f"{BASE}/broadcasts"))
    row = re.search(rf'<tr data-broadcast="{broadcast_id}".*?</tr>', html, re.S).group(0)
    assert "Kiel news" in row and 'data-status="sent"' in row
    assert re.search(r'data-count="delivered">2 \(100 %\)', row)
    assert re.search(r'data-count="read">1 \(50 %\)', row)
    # Filtered by status: a draft list does not show it.
    drafts = _html(client.get(f"{BASE}/broadcasts", query_string={"status": "draft"}))
    assert f'data-broadcast="{broadcast_id}"' not in drafts


def test_a_cm_composes_in_german_and_english_and_sends_now(app, client, staff):
    german, english = member_in("Lübeck"), member_in("Lübeck")
    db.session.get(User, german.user_id).locale = "de"
    db.session.commit()
    response = _compose(client)
    assert response.status_code == 303, _html(response)
    (broadcast,) = _broadcasts()
    assert broadcast.translations == {
        "de": {"title": "Neue Skills", "body": "Ab Montag gibt es Smart-Home-Aufträge."},
        "en": {"title": "New skills", "body": "Smart-home jobs start on Monday."},
    }
    assert broadcast.title == "Neue Skills" and broadcast.segment == {
        "cities": ["Lübeck"],
        "statuses": ["active"],
    }
    assert broadcast.status in ("sending", "sent")
    drain_background(app)
    page = _html(client.get(response.headers["Location"]))
    assert 'data-status="sent"' in page
    assert 'data-count="recipients">2<' in page and 'data-count="delivered">2<' in page
    assert page.count("data-recipient=") == 2
    # The members read it in their language.
    for actor, title in ((german, "Neue Skills"), (english, "New skills")):
        mine = client.get(f"{API}/me/broadcasts", headers=actor.headers).get_json()["items"]
        assert [m["title"] for m in mine] == [title]


def test_the_segment_preview_counts_and_samples_the_members_live(client, staff):
    inside = [member_in("Rostock"), member_in("Rostock")]
    member_in("Schwerin")
    fragment = _html(
        client.get(
            f"{BASE}/broadcasts/segment-preview",
            query_string={"cities": "Rostock", "countries": "DE"},
            headers={"HX-Request": "true"},
        )
    )
    assert 'data-segment-count="2"' in fragment
    for actor in inside:
        assert f"<td>{actor.profile_id}</td>" in fragment
    assert "<html" not in fragment  # a fragment, not a page
    refused = client.get(f"{BASE}/broadcasts/segment-preview", query_string={"skills": "juggling"})
    assert refused.status_code == 200 and "unknown skills: juggling" in _html(refused)


def test_a_broadcast_without_its_english_text_is_refused_and_nothing_is_saved(client, staff):
    response = _compose(client, title_en="", body_en="")
    assert response.status_code == 422
    html = _html(response)
    assert "translations.en.title" in html and "Neue Skills" in html  # the form kept
    assert _broadcasts() == []


def test_scheduling_in_the_past_is_refused_and_the_draft_is_not_kept(client, staff):
    response = _compose(client, when="later", send_at="2001-01-01T10:00")
    assert response.status_code == 422 and "send_at" in _html(response)
    assert _broadcasts() == []


def test_schedule_for_later_then_unschedule_and_send_now(app, client, staff):
    member_in("Jena")
    later = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = _compose(client, cities="Jena", when="later", send_at=later)
    assert response.status_code == 303
    (broadcast,) = _broadcasts()
    assert broadcast.status == "scheduled"
    assert broadcast.scheduled_for.strftime("%Y-%m-%dT%H:%M") == later
    page = f"{BASE}/broadcasts/{broadcast.id}"
    assert post_form(client, page, f"{page}/unschedule").status_code == 303
    assert _broadcasts()[0].status == "draft"
    # Unscheduling a draft: the page again with the refusal.
    refused = post_form(client, page, f"{page}/unschedule")
    assert refused.status_code == 409 and "Cannot unschedule" in _html(refused)
    assert post_form(client, page, f"{page}/send", when="now").status_code == 303
    drain_background(app)
    assert _broadcasts()[0].status == "sent"
    again = post_form(client, page, f"{page}/send", when="now")
    assert again.status_code == 409


def test_a_draft_is_kept_and_a_later_schedule_from_its_page(client, staff):
    assert _compose(client, when="draft").status_code == 303
    (broadcast,) = _broadcasts()
    assert broadcast.status == "draft"
    page = f"{BASE}/broadcasts/{broadcast.id}"
    html = _html(client.get(page))
    assert 'id="send-now"' in html and "Schedule" in html
    later = (utcnow() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    assert post_form(client, page, f"{page}/send", when="later", send_at=later).status_code == 303
    assert _broadcasts()[0].status == "scheduled"
    assert client.get(f"{BASE}/broadcasts/999999").status_code == 404


def test_the_recipients_csv_lists_every_recipient_with_their_channels(app, client, cm, staff):
    reader, other = member_in("Ulm"), member_in("Ulm")
    broadcast_id = sent_broadcast(app, client, cm, "Ulm")
    client.post(f"{API}/me/broadcasts/{broadcast_id}/read", headers=reader.headers)
    response = client.get(f"{BASE}/broadcasts/{broadcast_id}/recipients.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f"broadcast-{broadcast_id}-recipients-" in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(_html(response).lstrip("\ufeff"))))
    assert table[0] == ["member_id", "display_name", "delivered_at", "read_at", "email", "push"]
    by_member = {int(row[0]): row for row in table[1:]}
    assert set(by_member) == {reader.profile_id, other.profile_id}
    assert by_member[reader.profile_id][3] and not by_member[other.profile_id][3]
    assert all(row[2] for row in table[1:])  # delivered
    assert all(row[4] in ("queued", "sent", "suppressed", "failed") for row in table[1:])
    unread = client.get(f"{BASE}/broadcasts/{broadcast_id}/recipients.csv?read=false")
    rows = list(csv.reader(io.StringIO(_html(unread).lstrip("\ufeff"))))[1:]
    assert [int(r[0]) for r in rows] == [other.profile_id]


# --- help-centre articles -----------------------------------------------------------------------


def test_articles_are_listed_by_status_and_topic(client, cm, staff):
    topic = create_category(client, cm, name="Payouts")
    other = create_category(client, cm, name="Safety")
    draft = create_article(client, cm, topic["id"], title="When is my money paid?")
    shown = published_article(client, cm, other["id"], title="Ladders and you")
    html = _html(client.get(f"{BASE}/articles"))
    assert f'data-article="{draft["id"]}" data-status="draft"' in html
    assert f'data-article="{shown["id"]}" data-status="published"' in html
    only = _html(client.get(f"{BASE}/articles", query_string={"status": "published"}))
    assert f'data-article="{draft["id"]}"' not in only and f'data-article="{shown["id"]}"' in only
    by_topic = _html(client.get(f"{BASE}/articles", query_string={"category_id": topic["id"]}))
    assert f'data-article="{draft["id"]}"' in by_topic
    assert f'data-article="{shown["id"]}"' not in by_topic


def test_write_edit_publish_and_archive_an_article(client, cm, staff):
    topic = create_category(client, cm, name="Tools")
    response = post_form(
        client,
        f"{BASE}/articles/new",
        slug="which-drill",
        category_id=str(topic["id"]),
        audience="members",
        title="Which drill?",
        summary="",
        body="A hammer drill for concrete.",
    )
    assert response.status_code == 303, _html(response)
    article = db.session.scalar(select(HelpArticle).where(HelpArticle.slug == "which-drill"))
    assert article.status == "draft" and article.category_id == topic["id"]
    page = f"{BASE}/articles/{article.id}"
    edited = post_form(
        client, page, f"{page}/versions", title="Which drill to buy?", body="SDS for concrete."
    )
    assert edited.status_code == 303
    versions = db.session.scalars(
        select(ArticleVersion).where(ArticleVersion.article_id == article.id)
    ).all()
    assert sorted(v.number for v in versions) == [1, 2]
    first = next(v for v in versions if v.number == 1)
    assert post_form(client, page, f"{page}/publish", version_id=str(first.id)).status_code == 303
    db.session.expire_all()
    assert article.status == "published" and article.published_version_id == first.id
    html = _html(client.get(page))
    assert 'data-status="published"' in html and 'data-version="1"' in html
    assert post_form(client, page, f"{page}/archive").status_code == 303
    db.session.expire_all()
    assert article.status == "archived"
    refused = post_form(client, page, f"{page}/archive")
    assert refused.status_code == 409


def test_article_refusals_show_the_form_again(client, cm, staff):
    topic = create_category(client, cm)
    create_article(client, cm, topic["id"], slug="taken")
    taken = post_form(
        client,
        f"{BASE}/articles/new",
        slug="taken",
        category_id=str(topic["id"]),
        title="Again",
        body="x",
    )
    assert taken.status_code == 409 and "taken" in _html(taken)
    no_title = post_form(
        client, f"{BASE}/articles/new", slug="fresh", category_id=str(topic["id"]), body="x"
    )
    assert no_title.status_code == 422 and "title" in _html(no_title)
    assert db.session.scalar(select(HelpArticle).where(HelpArticle.slug == "fresh")) is None
    article = create_article(client, cm, topic["id"])
    page = f"{BASE}/articles/{article['id']}"
    wrong = post_form(client, page, f"{page}/publish", version_id="999999")
    assert wrong.status_code == 422 and "version_id" in _html(wrong)


def test_the_article_page_sums_up_the_feedback(client, cm, staff):
    article = published_article(client, cm)
    for helpful, comment in ((True, None), (False, "Missing the torque values")):
        reader = make_actor("member")
        answered = client.post(
            f"{API}/help/articles/{article['id']}/feedback",
            json={"helpful": helpful, "comment": comment},
            headers=reader.headers,
        )
        assert answered.status_code == 200, answered.get_json()
    html = _html(client.get(f"{BASE}/articles/{article['id']}"))
    assert 'data-feedback="1/1"' in html and "Missing the torque values" in html
    assert "50 %" in html


# --- moderation ---------------------------------------------------------------------------------


def test_the_queue_shows_open_reports_and_hiding_the_post_upholds_them(client, cm, staff):
    reported = reported_post(client, cm)
    html = _html(client.get(f"{BASE}/moderation"))
    assert f'data-report="{reported["report_id"]}"' in html and "Cheap brackets here" in html
    response = post_form(
        client,
        f"{BASE}/moderation",
        f"{BASE}/moderation/reports/{reported['report_id']}/decide",
        decision="upheld",
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(TopicPost, reported["post_id"]).hidden_at is not None
    assert db.session.get(PostReport, reported["report_id"]).status == "upheld"
    queue = _html(client.get(f"{BASE}/moderation"))
    assert f'data-report="{reported["report_id"]}"' not in queue
    decided = _html(client.get(f"{BASE}/moderation", query_string={"status": "upheld"}))
    assert f'data-report="{reported["report_id"]}"' in decided and 'data-hidden="yes"' in decided
    again = post_form(
        client,
        f"{BASE}/moderation",
        f"{BASE}/moderation/reports/{reported['report_id']}/decide",
        decision="dismissed",
    )
    assert again.status_code == 409 and "upheld already" in _html(again)


def test_dismissing_a_report_leaves_the_post(client, cm, staff):
    reported = reported_post(client, cm)
    action = f"{BASE}/moderation/reports/{reported['report_id']}/decide"
    assert post_form(client, f"{BASE}/moderation", action, decision="dismissed").status_code == 303
    db.session.expire_all()
    assert db.session.get(TopicPost, reported["post_id"]).hidden_at is None
    assert db.session.get(PostReport, reported["report_id"]).status == "dismissed"
    bad = post_form(client, f"{BASE}/moderation", action, decision="maybe")
    assert bad.status_code == 422


def test_mute_the_author_then_lift_the_mute(client, cm, staff):
    reported = reported_post(client, cm)
    author = reported["author"]
    action = f"{BASE}/moderation/members/{author.profile_id}/mute"
    refused = post_form(client, f"{BASE}/moderation", action, reason="")
    assert refused.status_code == 422
    muted = post_form(client, f"{BASE}/moderation", action, reason="Advertising")
    assert muted.status_code == 303
    mute = db.session.scalar(
        select(CommunityMute).where(CommunityMute.member_id == author.profile_id)
    )
    assert mute.reason == "Advertising" and mute.lifted_at is None
    html = _html(client.get(f"{BASE}/moderation"))
    assert f'data-mute="{mute.id}"' in html
    twice = post_form(client, f"{BASE}/moderation", action, reason="Again")
    assert twice.status_code == 409
    lift = f"{BASE}/moderation/mutes/{mute.id}/lift"
    assert post_form(client, f"{BASE}/moderation", lift).status_code == 303
    db.session.expire_all()
    assert mute.lifted_at is not None
    assert post_form(client, f"{BASE}/moderation", lift).status_code == 409
    assert f'data-mute="{mute.id}"' not in _html(client.get(f"{BASE}/moderation"))


# --- who may, CSRF, the nav ---------------------------------------------------------------------

PAGES = ("/broadcasts", "/broadcasts/new", "/articles", "/articles/new", "/moderation")


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for page in PAGES:
        response = client.get(BASE + page)
        assert response.status_code == 303, page
        assert response.headers["Location"].startswith("/console/sign-in")


@pytest.mark.parametrize("role", ["member", "customer"])
def test_members_and_customers_get_no_programmes_pages(client, role):
    actor = make_actor(role)
    html = _html(client.get("/console/sign-in"))
    response = client.post(
        "/console/sign-in",
        data={"csrf_token": csrf_of(html), "email": actor.email, "password": PASSWORD},
    )
    assert response.status_code == 403
    for page in PAGES:
        assert client.get(BASE + page).status_code == 303


def test_a_cm_who_has_not_passed_the_second_factor_gets_no_page(client):
    person = make_staff()
    html = _html(client.get("/console/sign-in"))
    client.post(
        "/console/sign-in",
        data={"csrf_token": csrf_of(html), "email": person.email, "password": PASSWORD},
    )
    response = client.get(f"{BASE}/moderation")
    assert response.status_code == 303 and "/console/two-factor" in response.headers["Location"]


def test_forms_without_a_csrf_token_are_refused(client, cm, staff):
    reported = reported_post(client, cm)
    response = client.post(
        f"{BASE}/moderation/reports/{reported['report_id']}/decide", data={"decision": "upheld"}
    )
    assert response.status_code == 400
    response = client.post(f"{BASE}/broadcasts/new", data={"kind": "announcement"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(PostReport, reported["report_id"]).status == "open"
    assert _broadcasts() == []


def test_the_nav_marks_programmes_on_these_pages(client, staff):
    for page in PAGES:
        html = _html(client.get(BASE + page))
        nav = re.search(r'<nav class="areas".*?</nav>', html, re.S).group(0)
        current = re.findall(r'aria-current="page">([^<]+)<', nav)
        # The hub (console_programmes) may not be there yet: then the item reads "coming".
        assert current in (["Programmes"], []), (page, current)
        assert 'aria-current="page">Tickets' not in nav
    programmes = next(item for item in NAV if item.key == "programmes")
    assert programmes.covers("console_comms.broadcasts")
    assert programmes.covers("console_programmes.index")
    assert not programmes.covers("console_tickets.index")
