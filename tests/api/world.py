"""A small world for the authorization matrix: the seven parties and one object of every kind.

Customer A and member A own the objects (A's job, A's ticket, A's mentorship …); customer B
and member B are just as real — active, with an address or a payout account of their own — and
must never reach A's. Staff are one community manager and one admin. A few objects belong to
a third person (the mentee of A's mentorship, an applicant's document): extra actors, named in
the table when they are the owner. Built through the API where that is short, straight in the
database where the API path is long (a badge, an offer), as the domain tests do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from accounts import service as accounts
from accounts.lifecycle import close_access
from crowd.core.auth import API_KEY_SCOPES
from crowd.core.db import utcnow
from crowd.extensions import db
from invoicing import issuing
from jobs.models import Offer, WorkReportFile
from members.models import SkillCategory
from mentoring.models import Mentorship, TopPerformerBadge
from notifications.models import Notification
from notifications.service import notify
from onboarding.models import Application, LevelRuleset
from organisations.models import Organisation
from recruitment.codes import issue_code
from recruitment.models import Referral
from support.models import TicketMessage
from tests.factories import PASSWORD, Actor, make_actor
from tests.files_helpers import jpeg_with_gps, png, start_upload, upload
from tests.invoicing.samples import german_business_invoice
from tests.jobs.conftest import active_member, drain_background, future
from tests.mentoring.conftest import MENTOR_BODY, set_record
from tests.organisations.helpers import COMPANY as ORGANISATION
from tests.organisations.helpers import activate as activate_organisation
from tests.organisations.helpers import token_from_email
from tests.payouts.job_money_helpers import assigned_job, completed_job, post_job

API = "/api/v1"
LINKS = {"refresh_url": "https://app.example/refresh", "return_url": "https://app.example/done"}
SKILL = "tv_wall_mount"

# The seven parties every operation is called by, in the order they call (owners last, so that
# a refusal is checked against the untouched object).
PARTIES = (
    "anonymous",
    "other_customer",
    "other_member",
    "customer",
    "member",
    "community_manager",
    "admin",
)
ROLE_OF = {
    "customer": "customer",
    "other_customer": "customer",
    "member": "member",
    "other_member": "member",
    "community_manager": "community_manager",
    "admin": "admin",
    # Customer A's API keys (test_authz_matrix: what a key gets through to).
    "customer_key": "customer",
    **{f"customer_key_without:{scope}": "customer" for scope in API_KEY_SCOPES},
    # Extra actors: owners of one kind of object each.
    "mentee": "member",
    "applicant": "member",
}


@dataclass
class World:
    actors: dict[str, Actor] = field(default_factory=dict)
    ids: dict[str, int | str] = field(default_factory=dict)

    def headers(self, party: str) -> dict:
        return {} if party == "anonymous" else self.actors[party].headers


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.get_json())
    return response.get_json()


def build_world(app, client) -> World:
    """Every party, and one object of each kind owned by A (or by an extra actor)."""
    world = World()
    a = world.actors
    a["customer"] = make_actor("customer")
    a["other_customer"] = make_actor("customer")
    a["community_manager"] = make_actor("community_manager")
    a["admin"] = make_actor("admin")
    # Member A can mentor (a Senior with a record); member B is just as active, no mentor.
    a["member"] = active_member(level_rank=3)
    set_record(a["member"], ratings=12, stars=5, tenure_days=400)
    a["other_member"] = active_member(level_rank=3)
    set_record(a["other_member"], ratings=12, stars=5, tenure_days=400)
    a["mentee"] = active_member(level_rank=1)
    set_record(a["mentee"], ratings=0, jobs=0, tenure_days=0)
    a["applicant"] = make_actor("member")
    ids = world.ids
    ids["member"] = a["member"].profile_id
    ids["customer"] = a["customer"].profile_id
    ids["skill"] = SKILL
    _accounts(world, client)
    _files(world, client)
    _jobs(world, app, client)
    _onboarding(world, client)
    _money(world, app, client)
    # Before the dispute: a member with an open dispute may not mentor.
    _programmes(world, app, client)
    _support(world, app, client)
    _community(world, app, client)
    _helpcentre(world, client)
    _recruitment(world, app, client)
    _privacy(world, client)
    _organisations(world, app, client)
    drain_background(app)
    return world


def _accounts(world: World, client) -> None:
    a, ids = world.actors, world.ids
    customer, member = a["customer"], a["member"]
    # A second session of customer A: revoking it must not cost the one the matrix uses.
    issued = accounts.sign_in(email=customer.email, password=PASSWORD)
    db.session.commit()
    ids["token"] = issued.token.id
    # Customer A's API keys: one with every scope, and one lacking each scope in turn.
    for name, scopes in [("customer_key", list(API_KEY_SCOPES))] + [
        (f"customer_key_without:{scope}", [s for s in API_KEY_SCOPES if s != scope])
        for scope in API_KEY_SCOPES
    ]:
        body = _ok(
            client.post(
                f"{API}/auth/api-keys",
                json={"name": name, "scopes": scopes},
                headers=customer.headers,
            ),
            201,
        )
        a[name] = Actor(
            customer.user_id, "customer", customer.email, body["token"], customer.profile_id
        )
    # Accounts staff deactivate (POST) and reactivate (DELETE): customers of their own.
    ids["account"] = make_actor("customer").user_id
    ids["deactivated_account"] = make_actor("customer").user_id
    ids["cm_account"] = make_actor("community_manager").user_id
    close_access(ids["deactivated_account"], actor_id=None, reason="matrix")
    db.session.commit()
    address = {
        "label": "Home",
        "street": "Unter den Linden 1",
        "postcode": "10117",
        "city": "Berlin",
        "country": "DE",
        "lat": 52.52,
        "lon": 13.405,
    }
    for party in ("customer", "other_customer"):
        body = _ok(
            client.post(f"{API}/me/customer/addresses", json=address, headers=a[party].headers), 201
        )
        ids[f"address:{party}"] = body["id"]
    ids["address"] = ids["address:customer"]
    start = future(24 * 30)
    body = _ok(
        client.post(
            f"{API}/me/member/time-off",
            json={
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(days=3)).isoformat(),
            },
            headers=member.headers,
        ),
        201,
    )
    ids["time_off"] = body["id"]
    notify(customer.user_id, "matrix.test", "Hello", dedupe_key=f"matrix:{customer.user_id}")
    db.session.commit()
    drain_background(client.application)
    ids["notification"] = db.session.scalar(
        select(Notification.id).where(Notification.user_id == customer.user_id)
    )
    body = _ok(
        client.post(
            f"{API}/me/devices",
            json={"platform": "ios", "token": "ab" * 32, "app_version": "1.0", "locale": "de-DE"},
            headers=customer.headers,
        ),
        201,
    )
    ids["device"] = body["id"]
    # Signed links (unsubscribe, consent) and admin-only objects nobody has: a forged token
    # and ids of nothing.
    ids["forged_token"] = "forged-token"
    ids["nothing"] = 2**40
    ids["newsletter_topic"] = "newsletter"
    ids["retention_rule"] = "notifications"


def _files(world: World, client) -> None:
    member, ids = world.actors["member"], world.ids
    # Member A shows a photo, has another ready one to switch to, and one still pending.
    shown = _ok(upload(client, member, jpeg_with_gps()))["id"]
    _ok(client.put(f"{API}/me/profile-photo", json={"file_id": shown}, headers=member.headers))
    ids["photo_file"] = _ok(upload(client, member, png(), "image/png"))["id"]
    ids["file"] = start_upload(client, member, png(), "image/png")["id"]


def _privacy(world: World, client) -> None:
    a, ids = world.actors, world.ids
    # Member A's data export, asked for by the admin (so member A may still ask for their own);
    # it is assembled with the rest of the background work.
    ids["export"] = _ok(
        client.post(f"{API}/users/{a['member'].user_id}/data-exports", headers=a["admin"].headers),
        202,
    )["id"]


def _organisations(world: World, app, client) -> None:
    a, ids = world.actors, world.ids
    member, cm = a["member"], a["community_manager"]
    # Member A owns an active company with a technician; member B is in none, with an open
    # invitation to A's company (its token as the email carries it) and one more open
    # invitation to revoke.
    ids["organisation"] = _ok(
        client.post(f"{API}/organisations", json=ORGANISATION, headers=member.headers), 201
    )["id"]
    activate_organisation(client, cm, ids["organisation"])  # its checks passed first
    ids["org_certificate"] = db.session.get(Organisation, ids["organisation"]).insurance_file_id
    technician = make_actor("member")
    ids["org_technician"] = technician.profile_id
    own = f"{API}/me/organisation/invitations"
    for actor in (technician, a["other_member"]):
        body = {"email": actor.email, "role": "technician"}
        _ok(client.post(own, json=body, headers=member.headers), 201)
    ids["org_invite_token"] = token_from_email(app, a["other_member"].email)
    accepted = client.post(
        f"{API}/organisation-invitations/accept",
        json={"token": token_from_email(app, technician.email)},
        headers=technician.headers,
    )
    _ok(accepted)
    body = {"email": "someone@example.test", "role": "technician"}
    ids["org_invitation"] = _ok(client.post(own, json=body, headers=member.headers), 201)["id"]


def _jobs(world: World, app, client) -> None:
    a, ids = world.actors, world.ids
    customer, member, cm = a["customer"], a["member"], a["community_manager"]
    # Assigned to member A (payment authorised): the member's side of a job, and its payment.
    ids["job"], _ = assigned_job(app, client, customer, cm, member)
    # Completed by member A: reviews, confirmation, disputes; a photo in its work report.
    ids["done_job"], _ = completed_job(app, client, customer, cm, member)
    photo = _ok(upload(client, member, png(), "image/png", purpose="work_photo"))["id"]
    db.session.add(WorkReportFile(job_id=ids["done_job"], file_id=photo, kind="photo"))
    db.session.commit()
    ids["work_report_file"] = photo
    # Open, with a pending offer to member A (written directly: the waves may pick others).
    ids["open_job"] = post_job(app, client, customer)
    offer = db.session.scalar(
        select(Offer).where(Offer.job_id == ids["open_job"], Offer.member_id == member.profile_id)
    )
    if offer is None:
        offer = Offer(
            job_id=ids["open_job"],
            member_id=member.profile_id,
            wave=1,
            expires_at=utcnow() + timedelta(hours=6),
        )
        db.session.add(offer)
        db.session.commit()
    ids["offer"] = offer.id
    # Customer B's job done by member B: B have a payment method and a job of their own.
    ids["other_done_job"], _ = completed_job(
        app, client, a["other_customer"], cm, a["other_member"]
    )


def _support(world: World, app, client) -> None:
    a, ids = world.actors, world.ids
    cm = a["community_manager"]
    # The dispute's first message carries a photo of the customer's.
    attached = _ok(upload(client, a["customer"], png(), "image/png", purpose="ticket_attachment"))
    ticket = _ok(
        client.post(
            f"{API}/tickets",
            json={
                "subject": "The TV fell off the wall",
                "category": "quality_complaint",
                "description": "It was hanging crooked the next morning.",
                "job_id": ids["done_job"],
                "dispute": True,
                "attachment_file_ids": [attached["id"]],
            },
            headers=a["customer"].headers,
        ),
        201,
    )
    ids["ticket"] = ticket["id"]
    ids["ticket_message"] = db.session.scalar(
        select(TicketMessage.id).where(TicketMessage.ticket_id == ticket["id"])
    )
    ids["ticket_file"] = attached["id"]
    _ok(
        client.post(
            f"{API}/tickets/{ticket['id']}/assign",
            json={"assignee_id": cm.user_id},
            headers=cm.headers,
        )
    )
    drain_background(app)
    resolution = _ok(
        client.post(
            f"{API}/tickets/{ticket['id']}/resolutions",
            json={"kind": "release", "member_at_fault": False, "note": "Fair for both"},
            headers=cm.headers,
        ),
        201,
    )
    ids["resolution"] = resolution["id"]
    ids["action"] = "mediate"


def _onboarding(world: World, client) -> None:
    a, ids = world.actors, world.ids
    cm, admin, member, applicant = (
        a["community_manager"],
        a["admin"],
        a["member"],
        a["applicant"],
    )
    _ok(
        client.post(
            f"{API}/house-rules",
            json={"title": "House rules", "body": "Be on time. Be kind."},
            headers=admin.headers,
        ),
        201,
    )
    test = _ok(
        client.post(
            f"{API}/skill-tests",
            json={
                "skill": SKILL,
                "questions_per_attempt": 1,
                "questions": [
                    {
                        "prompt": "Which anchor for brick?",
                        "options": ["Nylon", "None"],
                        "correct": [0],
                    }
                ],
            },
            headers=cm.headers,
        ),
        201,
    )
    ids["skill_test"] = test["id"]
    ids["question"] = test["questions"][0]["id"]
    attempt = _ok(
        client.post(f"{API}/me/skill-tests/{SKILL}/attempts", headers=member.headers), 201
    )
    ids["attempt"] = attempt["id"]
    _ok(
        client.post(
            f"{API}/me/onboarding/documents",
            json={
                "kind": "identity",
                "document_type": "passport",
                "issuer": "Stadt Berlin",
                "issuing_country": "DE",
            },
            headers=applicant.headers,
        ),
        201,
    )
    application = db.session.scalar(
        select(Application)
        .where(Application.member_id == applicant.profile_id)
        .order_by(Application.id.desc())
    )
    ids["application"] = application.id
    detail = _ok(client.get(f"{API}/applications/{application.id}", headers=cm.headers))
    ids["document_check"] = detail["document_checks"][0]["id"]
    ids["ruleset"] = db.session.scalar(
        select(LevelRuleset.id).where(LevelRuleset.status == "active")
    )
    _ok(
        client.post(
            f"{API}/training-modules",
            json={"code": "safety-basics", "title": "Safety basics", "duration_minutes": 30},
            headers=cm.headers,
        ),
        201,
    )
    ids["training"] = "safety-basics"


def _money(world: World, app, client) -> None:
    a, ids = world.actors, world.ids
    admin = a["admin"]
    _ok(
        client.post(
            f"{API}/plans",
            json={
                "code": "flat29",
                "name": "Flat 29",
                "kind": "flat_fee",
                "monthly_fee_amount": 2900,
                "fee_currency": "EUR",
            },
            headers=admin.headers,
        ),
        201,
    )
    ids["plan"] = "flat29"
    for party in ("member", "other_member"):
        _ok(
            client.post(
                f"{API}/me/payout-account",
                json={**LINKS, "country": "DE"},
                headers=a[party].headers,
            ),
            201,
        )
    run = _ok(client.post(f"{API}/payouts/runs", json={}, headers=admin.headers), 202)
    ids["payout_run"] = run["id"]
    ids["document"] = _document(ids["customer"])


def _document(customer_id: int) -> int:
    """An e-invoice issued to customer A (a business in Germany), as the issuing task would."""
    data = german_business_invoice()
    document = issuing.issue(
        data, source_key="world:invoice", recipient_type="customer", customer_id=customer_id
    )
    db.session.commit()
    return document.id


def _programmes(world: World, app, client) -> None:
    a, ids = world.actors, world.ids
    cm, member, mentee = a["community_manager"], a["member"], a["mentee"]
    _ok(client.put(f"{API}/me/mentor", json=MENTOR_BODY, headers=member.headers))
    drain_background(app)
    mentorship = db.session.scalar(
        select(Mentorship).where(Mentorship.mentee_id == mentee.profile_id)
    )
    if mentorship is None:
        proposed = _ok(
            client.post(
                f"{API}/mentorships",
                json={"mentor_id": member.profile_id, "mentee_id": mentee.profile_id},
                headers=cm.headers,
            ),
            201,
        )
        mentorship = db.session.get(Mentorship, proposed["id"])
    ids["mentorship"] = mentorship.id
    if mentorship.status == "proposed":
        _ok(client.post(f"{API}/mentorships/{mentorship.id}/accept", headers=member.headers))
    session = _ok(
        client.post(
            f"{API}/mentorships/{mentorship.id}/sessions",
            json={"kind": "call", "occurred_at": (utcnow() - timedelta(hours=1)).isoformat()},
            headers=member.headers,
        ),
        201,
    )
    ids["mentor_session"] = session["id"]
    run = _ok(client.post(f"{API}/top-performer-runs", json={}, headers=cm.headers), 201)
    ids["top_performer_run"] = run["id"]
    category = db.session.scalar(select(SkillCategory).where(SkillCategory.slug == "tv_audio"))
    badge = TopPerformerBadge(
        run_id=run["id"],
        member_id=member.profile_id,
        category_id=category.id,
        region="DE",
        valid_from=utcnow() - timedelta(days=1),
        valid_until=utcnow() + timedelta(days=90),
    )
    db.session.add(badge)
    db.session.commit()
    ids["badge"] = badge.id
    starts = future(24 * 14)
    event = _ok(
        client.post(
            f"{API}/events",
            json={
                "kind": "meetup",
                "title": "Wall mounts meetup",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=3)).isoformat(),
                "venue": "Werkstatt",
                "city": "Berlin",
                "country": "DE",
                "capacity": 20,
            },
            headers=cm.headers,
        ),
        201,
    )
    ids["event"] = event["id"]
    _ok(client.post(f"{API}/events/{event['id']}/publish", headers=cm.headers))
    _ok(client.post(f"{API}/events/{event['id']}/eligible", json={}, headers=cm.headers))
    _ok(
        client.post(
            f"{API}/events/{event['id']}/invitations",
            json={"member_ids": [member.profile_id]},
            headers=cm.headers,
        )
    )
    drain_background(app)
    invitations = _ok(client.get(f"{API}/me/invitations", headers=member.headers))
    ids["invitation"] = invitations["items"][0]["id"]
    broadcast = _ok(
        client.post(
            f"{API}/broadcasts",
            json={
                "kind": "announcement",
                "title": "Mentors meet",
                "body": "Thank you for mentoring.",
                "segment": {"programmes": ["mentor"]},
            },
            headers=cm.headers,
        ),
        201,
    )
    ids["broadcast"] = broadcast["id"]
    _ok(client.post(f"{API}/broadcasts/{broadcast['id']}/send", headers=cm.headers))
    drain_background(app)


def _community(world: World, app, client) -> None:
    a, ids = world.actors, world.ids
    cm, member = a["community_manager"], a["member"]
    # A group for mentors: member A (a mentor) joins and moderates it, member B does not
    # qualify and so does not see it.
    group = _ok(
        client.post(
            f"{API}/topic-groups",
            json={
                "slug": "mentors-corner",
                "name": "Mentors",
                "kind": "programme",
                "programme": "mentors",
            },
            headers=cm.headers,
        ),
        201,
    )
    ids["topic_group"] = group["id"]
    _ok(client.post(f"{API}/topic-groups/{group['id']}/join", headers=member.headers))
    thread = _ok(
        client.post(
            f"{API}/topic-groups/{group['id']}/threads",
            json={"title": "Brick or drywall?", "body": "What do you teach first?"},
            headers=member.headers,
        ),
        201,
    )
    ids["topic_thread"] = thread["id"]
    ids["thread_action"] = "pin"
    reply = _ok(
        client.post(
            f"{API}/topic-threads/{thread['id']}/replies",
            json={"body": "Brick: it forgives more."},
            headers=member.headers,
        ),
        201,
    )
    ids["topic_post"] = reply["id"]
    # Posts by staff: member A may report them (a member's own post is not theirs to report).
    staff_reply = _ok(
        client.post(
            f"{API}/topic-threads/{thread['id']}/replies",
            json={"body": "Both, in the workshop."},
            headers=cm.headers,
        ),
        201,
    )
    ids["staff_post"] = staff_reply["id"]
    staff_thread = _ok(
        client.post(
            f"{API}/topic-groups/{group['id']}/threads",
            json={"title": "Welcome", "body": "Introduce yourselves."},
            headers=cm.headers,
        ),
        201,
    )
    report = _ok(
        client.post(
            f"{API}/topic-posts/{staff_thread['id']}/reports",
            json={"reason": "off_topic"},
            headers=member.headers,
        ),
        201,
    )
    ids["topic_report"] = report["id"]
    mute = _ok(
        client.post(
            f"{API}/members/{a['mentee'].profile_id}/community-mutes",
            json={"reason": "Cooling off"},
            headers=cm.headers,
        ),
        201,
    )
    ids["community_mute"] = mute["id"]
    drain_background(app)


def _helpcentre(world: World, client) -> None:
    a, ids = world.actors, world.ids
    cm = a["community_manager"]
    category = _ok(
        client.post(
            f"{API}/help/categories",
            json={"slug": "getting-started", "name": "Getting started"},
            headers=cm.headers,
        ),
        201,
    )
    ids["help_category"] = category["id"]
    text = {"title": "Mounting a TV", "summary": None, "body": "Find the studs first."}
    # Published for members: every member reads it, customers do not see it.
    article = _ok(
        client.post(
            f"{API}/help/articles",
            json={**text, "slug": "mounting-a-tv", "category_id": category["id"]},
            headers=cm.headers,
        ),
        201,
    )
    ids["article"] = article["id"]
    _ok(client.post(f"{API}/help/articles/{article['id']}/publish", json={}, headers=cm.headers))
    # A draft: nobody but staff sees it.
    draft = _ok(
        client.post(
            f"{API}/help/articles",
            json={**text, "slug": "draft-tv", "category_id": category["id"]},
            headers=cm.headers,
        ),
        201,
    )
    ids["draft_article"] = draft["id"]
    link = _ok(
        client.post(
            f"{API}/help/articles/{article['id']}/links",
            json={"target_kind": "onboarding_step", "target_key": "identity"},
            headers=cm.headers,
        ),
        201,
    )
    ids["help_link"] = link["id"]
    _ok(
        client.post(
            f"{API}/help/articles/{article['id']}/feedback",
            json={"helpful": True},
            headers=a["member"].headers,
        )
    )


def _recruitment(world: World, app, client) -> None:
    a, ids = world.actors, world.ids
    # Both active members have a code; a friend joined with member A's.
    ids["referral_code"] = issue_code(a["member"].profile_id).code
    issue_code(a["other_member"].profile_id)
    db.session.commit()
    _ok(
        client.post(
            f"{API}/accounts/members",
            json={
                "email": "friend@example.test",
                "password": PASSWORD,
                "display_name": "Friend",
                "kind": "private",
                "referral_code": ids["referral_code"],
            },
        ),
        202,
    )
    # Sign-up answers without ids; the friend's member id is in the signed-in user.
    friend = _ok(
        client.post(
            f"{API}/auth/tokens",
            json={"email": "friend@example.test", "password": PASSWORD},
        ),
        201,
    )["user"]
    drain_background(app)
    ids["referral"] = db.session.scalar(
        select(Referral.id).where(Referral.referred_member_id == friend["member_id"])
    )
    channel = _ok(
        client.post(
            f"{API}/recruitment-channels",
            json={"kind": "event", "code": "MAKERFAIRE", "name": "Maker Faire", "country": "DE"},
            headers=a["community_manager"].headers,
        ),
        201,
    )
    ids["channel"] = channel["id"]
