"""Provider companies (issue 26, first slice): a member registers a company, a CM activates
it, the owner invites technicians by email link, roles change, a technician leaves and keeps
their own record; and every way it is refused."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crowd.core.audit import AuditEntry
from crowd.core.db import utcnow
from crowd.extensions import db
from members.models import Member, MemberSkill, MemberStats
from organisations.models import OrganisationInvitation, OrganisationMembership
from tests.factories import make_actor
from tests.jobs.conftest import active_member
from tests.organisations.helpers import (
    API,
    COMPANY,
    OWN,
    PROBLEM,
    accept,
    activate,
    company_with,
    invitation_emails,
    invite,
    register,
    token_from_email,
)
from tests.secret_scan import assert_secret_nowhere

JOINED, LEFT = "organisation.member_joined", "organisation.member_left"


def _problem(response, status: int, slug: str | None = None) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.content_type == PROBLEM
    if slug:
        assert response.json["type"].endswith(f"/{slug}"), response.json
    return response.json


def _field(response) -> set[str]:
    _problem(response, 422)
    return set(response.json["errors"]["json"])


def _record(member_id: int) -> tuple:
    """What is the member's own: their row, skills and counters."""
    db.session.expire_all()
    member = db.session.get(Member, member_id)
    skills = db.session.scalars(select(MemberSkill).where(MemberSkill.member_id == member_id)).all()
    stats = db.session.get(MemberStats, member_id)
    return (
        member.status,
        member.level_rank,
        member.display_name,
        member.kind,
        [(s.skill_id, s.proficiency, s.verified) for s in skills],
        (stats.jobs_completed, stats.rating_count, stats.rating_sum),
    )


# --- the story --------------------------------------------------------------------------------


def test_a_company_registers_invites_two_technicians_and_a_technician_leaves(
    client, app, cm, recorded
):
    recorded.listen(JOINED, LEFT)
    owner = make_actor("member", display_name="Hanna Huber")
    company = register(client, owner, allow_direct_accept=True)
    assert (company["status"], company["role"], company["member_id"]) == (
        "pending",
        "owner",
        owner.profile_id,
    )
    assert (company["vat_id"], company["allow_direct_accept"]) == ("DE136695976", True)
    pending = client.get(
        f"{API}/organisations", query_string={"status": "pending"}, headers=cm.headers
    )
    assert [o["id"] for o in pending.json["items"]] == [company["id"]]
    assert activate(client, cm, company["id"])["status"] == "active"

    # One technician has an account; the other has none yet when invited.
    tom = active_member(email="tom@example.test", display_name="Tom Technik")
    assert invite(client, owner, "Tom@Example.test").status_code == 201
    sent = invite(client, owner, "lea@example.test")
    assert sent.status_code == 201
    assert (sent.json["email"], sent.json["role"], sent.json["accepted_at"]) == (
        "lea@example.test",
        "technician",
        None,
    )
    assert "token" not in sent.json
    open_ones = client.get(f"{OWN}/invitations", headers=owner.headers).json["items"]
    assert [i["email"] for i in open_ones] == ["lea@example.test", "tom@example.test"]
    (email,) = invitation_emails(app, "lea@example.test")
    assert email.user_id is None and "Huber Elektro" in email.subject
    assert "?token=coi_" in email.body
    lea = make_actor("member", email="lea@example.test", display_name="Lea Lehrling")

    for technician in (tom, lea):
        joined = accept(client, technician, token_from_email(app, technician.email))
        assert joined.status_code == 200, joined.get_json()
        assert (joined.json["id"], joined.json["role"]) == (company["id"], "technician")
    assert client.get(f"{OWN}/invitations", headers=owner.headers).json["items"] == []

    made = client.patch(
        f"{OWN}/members/{tom.profile_id}", json={"role": "dispatcher"}, headers=owner.headers
    )
    assert (made.status_code, made.json["role"]) == (200, "dispatcher")
    team = client.get(f"{OWN}/members", headers=tom.headers)
    assert team.status_code == 200
    assert [(m["display_name"], m["role"], m["status"]) for m in team.json["items"]] == [
        ("Hanna Huber", "owner", "active"),
        ("Tom Technik", "dispatcher", "active"),
        ("Lea Lehrling", "technician", "active"),
    ]
    tom_row = team.json["items"][1]
    assert (tom_row["member_status"], tom_row["level_rank"]) == ("active", 1)
    # A technician sees the company and their role, not their colleagues.
    assert client.get(f"{OWN}/members", headers=lea.headers).status_code == 403
    assert client.get(OWN, headers=lea.headers).json["role"] == "technician"

    before = _record(tom.profile_id)
    demoted = client.patch(
        f"{OWN}/members/{tom.profile_id}", json={"role": "technician"}, headers=owner.headers
    )
    assert demoted.status_code == 200
    assert client.post(f"{OWN}/leave", headers=tom.headers).status_code == 204
    assert _record(tom.profile_id) == before
    _problem(client.get(OWN, headers=tom.headers), 404)

    seen = client.get(f"{API}/organisations/{company['id']}", headers=cm.headers).json
    assert [(m["member_id"], m["role"], m["status"]) for m in seen["members"]] == [
        (owner.profile_id, "owner", "active"),
        (lea.profile_id, "technician", "active"),
        (tom.profile_id, "technician", "left"),
    ]
    assert seen["members"][2]["left_at"] is not None
    assert [(e.payload["member_id"], e.payload["role"]) for e in recorded.of(JOINED)] == [
        (owner.profile_id, "owner"),
        (tom.profile_id, "technician"),
        (lea.profile_id, "technician"),
    ]
    (left,) = recorded.of(LEFT)
    assert left.payload == {
        "organisation_id": company["id"],
        "member_id": tom.profile_id,
        "role": "technician",
        "status": "left",
    }


def test_a_technician_who_left_can_join_another_company(client, app, cm):
    owner, other_owner, tech = make_actor("member"), make_actor("member"), make_actor("member")
    company_with(client, app, cm, owner, technician=tech)
    assert client.post(f"{OWN}/leave", headers=tech.headers).status_code == 204
    company_with(client, app, cm, other_owner, technician=tech)
    assert client.get(OWN, headers=tech.headers).json["member_id"] == tech.profile_id
    rows = db.session.scalars(
        select(OrganisationMembership.status).where(
            OrganisationMembership.member_id == tech.profile_id
        )
    ).all()
    assert sorted(rows) == ["active", "left"]


# --- registering ------------------------------------------------------------------------------


def test_a_member_in_a_company_cannot_register_another(client, member):
    register(client, member)
    again = client.post(f"{API}/organisations", json=COMPANY, headers=member.headers)
    _problem(again, 409, "already-in-organisation")


def test_only_members_register_companies(client, customer, cm):
    for actor in (customer, cm):
        response = client.post(f"{API}/organisations", json=COMPANY, headers=actor.headers)
        _problem(response, 403)


def test_particulars_are_checked_naming_the_field(client, member):
    def post(**changes):
        body = {k: v for k, v in (COMPANY | changes).items() if v is not ...}
        return client.post(f"{API}/organisations", json=body, headers=member.headers)

    assert _field(post(vat_id="DE123")) == {"vat_id"}
    assert _field(post(vat_id=..., tax_number=...)) == {"vat_id"}
    assert _field(post(country="AT", postcode="1010")) == {"vat_id"}  # a German VAT ID
    assert _field(post(postcode="123")) == {"postcode"}
    assert _field(post(postcode="1234")) == {"postcode"}
    assert _field(post(register_number=None)) == {"register_number"}
    assert _field(post(register_court=None)) == {"register_court"}
    assert _field(post(country="FR")) == {"country"}
    assert _field(post(legal_name=" ")) == {"legal_name"}
    assert _field(post(tax_number="12", vat_id=None)) == {"tax_number"}
    assert db.session.scalar(select(OrganisationMembership.id)) is None
    austrian = post(country="AT", postcode="1010", city="Wien", vat_id=None, tax_number="591199013")
    assert austrian.status_code == 201, austrian.get_json()
    assert austrian.json["tax_number"] == "59-119/9013"


def test_a_suspended_member_cannot_register(client, member):
    db.session.get(Member, member.profile_id).status = "suspended"
    db.session.commit()
    response = client.post(f"{API}/organisations", json=COMPANY, headers=member.headers)
    _problem(response, 409, "member-closed")


# --- the company's particulars ----------------------------------------------------------------


def test_the_owner_changes_particulars_and_others_may_not(client, app, cm):
    owner, dispatcher, tech = (make_actor("member") for _ in range(3))
    company_with(client, app, cm, owner, dispatcher=dispatcher, technician=tech)
    changed = client.patch(
        OWN,
        json={"trade_name": "Huber & Söhne", "allow_direct_accept": True},
        headers=owner.headers,
    )
    assert changed.status_code == 200
    assert (changed.json["trade_name"], changed.json["allow_direct_accept"]) == (
        "Huber & Söhne",
        True,
    )
    for actor in (dispatcher, tech):
        refused = client.patch(OWN, json={"trade_name": "Mine"}, headers=actor.headers)
        _problem(refused, 403)
    # Checked whole: Austria with the German VAT ID kept is refused, nothing changes.
    moved = client.patch(OWN, json={"country": "AT", "postcode": "1010"}, headers=owner.headers)
    assert _field(moved) == {"vat_id"}
    assert client.get(OWN, headers=owner.headers).json["country"] == "DE"


def test_without_a_company_the_own_endpoints_are_404(client, member):
    _problem(client.get(OWN, headers=member.headers), 404)
    _problem(client.get(f"{OWN}/members", headers=member.headers), 404)
    _problem(client.post(f"{OWN}/leave", headers=member.headers), 404)
    _problem(invite(client, member, "x@example.test"), 404)


# --- invitations ------------------------------------------------------------------------------


def test_an_invitation_is_accepted_once_and_only_by_its_address(client, app, cm):
    owner, invited, stranger = make_actor("member"), make_actor("member"), make_actor("member")
    company_with(client, app, cm, owner)
    assert invite(client, owner, invited.email).status_code == 201
    token = token_from_email(app, invited.email)
    _problem(accept(client, stranger, token), 404)
    _problem(accept(client, invited, "coi_not-a-token"), 404)
    assert accept(client, invited, token).status_code == 200
    _problem(accept(client, invited, token), 410, "organisation-invitation-gone")
    stored = db.session.scalars(select(OrganisationInvitation)).one()
    assert stored.accepted_member_id == invited.profile_id
    # Spent, the link is in no email at rest: only its hash is anywhere.
    assert_secret_nowhere(token)
    (email,) = invitation_emails(app, invited.email)
    assert "coi_" not in email.body and "accepted or revoked" in email.body


def test_revoked_and_expired_invitations_are_gone(client, app, cm):
    owner, late, revoked = make_actor("member"), make_actor("member"), make_actor("member")
    company_with(client, app, cm, owner)
    sent = invite(client, owner, revoked.email)
    token = token_from_email(app, revoked.email)
    assert (
        client.delete(f"{OWN}/invitations/{sent.json['id']}", headers=owner.headers).status_code
        == 204
    )
    _problem(accept(client, revoked, token), 410)
    assert "coi_" not in invitation_emails(app, revoked.email)[0].body
    again = client.delete(f"{OWN}/invitations/{sent.json['id']}", headers=owner.headers)
    _problem(again, 410, "organisation-invitation-gone")
    expiring = invite(client, owner, late.email)
    db.session.get(OrganisationInvitation, expiring.json["id"]).expires_at = utcnow() - timedelta(
        seconds=1
    )
    db.session.commit()
    _problem(accept(client, late, token_from_email(app, late.email)), 410)
    # An expired invitation no longer blocks a new one to the address.
    assert invite(client, owner, late.email).status_code == 201


def test_who_may_invite_and_whom(client, app, cm):
    owner, dispatcher, tech = (make_actor("member") for _ in range(3))
    company_with(client, app, cm, owner, dispatcher=dispatcher, technician=tech)
    _problem(invite(client, tech, "a@example.test"), 403)
    _problem(invite(client, dispatcher, "b@example.test", "dispatcher"), 403)
    assert invite(client, dispatcher, "c@example.test").status_code == 201
    _problem(invite(client, owner, "c@example.test"), 409, "organisation-invitation-open")
    _problem(invite(client, owner, tech.email), 409, "already-in-organisation")
    assert _field(invite(client, owner, "d@example.test", "admin")) == {"role"}
    assert _field(invite(client, owner, "not an address")) == {"email"}
    owners_one = invite(client, owner, "e@example.test", "owner")
    _problem(
        client.delete(f"{OWN}/invitations/{owners_one.json['id']}", headers=dispatcher.headers),
        403,
    )


def test_another_companys_invitation_is_not_found(client, app, cm):
    owner, other = make_actor("member"), make_actor("member")
    company_with(client, app, cm, owner)
    company_with(client, app, cm, other)
    theirs = invite(client, other, "x@example.test").json["id"]
    _problem(client.delete(f"{OWN}/invitations/{theirs}", headers=owner.headers), 404)


def test_a_member_of_another_company_cannot_accept(client, app, cm):
    owner, other_owner, tech = (make_actor("member") for _ in range(3))
    company_with(client, app, cm, owner, technician=tech)
    company_with(client, app, cm, other_owner)
    assert invite(client, other_owner, tech.email).status_code == 201
    refused = accept(client, tech, token_from_email(app, tech.email))
    _problem(refused, 409, "already-in-organisation")
    assert client.get(OWN, headers=tech.headers).json["role"] == "technician"


def test_a_suspended_company_takes_nobody(client, app, cm):
    owner, invited = make_actor("member"), make_actor("member")
    organisation_id = company_with(client, app, cm, owner)
    assert invite(client, owner, invited.email).status_code == 201
    suspended = client.post(f"{API}/organisations/{organisation_id}/suspend", headers=cm.headers)
    assert suspended.json["status"] == "suspended"
    _problem(invite(client, owner, "new@example.test"), 409, "organisation-state-conflict")
    refused = accept(client, invited, token_from_email(app, invited.email))
    _problem(refused, 409, "organisation-state-conflict")


# --- roles, removing, leaving -----------------------------------------------------------------


def test_the_last_owner_stays(client, app, cm):
    owner, second, tech = (make_actor("member") for _ in range(3))
    company_with(client, app, cm, owner, technician=tech)
    _problem(client.post(f"{OWN}/leave", headers=owner.headers), 409, "last-owner")
    demote = client.patch(
        f"{OWN}/members/{owner.profile_id}", json={"role": "technician"}, headers=owner.headers
    )
    _problem(demote, 409, "last-owner")
    _problem(client.delete(f"{OWN}/members/{owner.profile_id}", headers=owner.headers), 409)
    # With a second owner the first may go.
    assert invite(client, owner, second.email, "owner").status_code == 201
    assert accept(client, second, token_from_email(app, second.email)).status_code == 200
    assert client.post(f"{OWN}/leave", headers=owner.headers).status_code == 204
    assert client.get(OWN, headers=second.headers).json["role"] == "owner"


def test_the_owner_removes_a_technician_who_keeps_their_record(client, app, cm, recorded):
    recorded.listen(LEFT)
    owner, dispatcher = make_actor("member"), make_actor("member")
    tech = active_member(level_rank=2)
    company_with(client, app, cm, owner, dispatcher=dispatcher, technician=tech)
    before = _record(tech.profile_id)
    _problem(client.delete(f"{OWN}/members/{tech.profile_id}", headers=dispatcher.headers), 403)
    assert (
        client.delete(f"{OWN}/members/{tech.profile_id}", headers=owner.headers).status_code == 204
    )
    assert _record(tech.profile_id) == before
    assert [e.payload["status"] for e in recorded.of(LEFT)] == ["removed"]
    _problem(client.get(OWN, headers=tech.headers), 404)
    # Gone from the company: nothing more to change or remove.
    _problem(client.delete(f"{OWN}/members/{tech.profile_id}", headers=owner.headers), 404)


def test_roles_are_changed_by_owners_only_and_only_in_their_company(client, app, cm):
    owner, dispatcher, tech, outsider = (make_actor("member") for _ in range(4))
    company_with(client, app, cm, owner, dispatcher=dispatcher, technician=tech)
    url = f"{OWN}/members/{tech.profile_id}"
    _problem(client.patch(url, json={"role": "dispatcher"}, headers=dispatcher.headers), 403)
    outside = client.patch(
        f"{OWN}/members/{outsider.profile_id}", json={"role": "dispatcher"}, headers=owner.headers
    )
    _problem(outside, 404)
    assert _field(client.patch(url, json={"role": "boss"}, headers=owner.headers)) == {"role"}


# --- staff ------------------------------------------------------------------------------------


def test_staff_list_view_activate_and_suspend(client, app, cm, admin, member):
    owner = make_actor("member")
    organisation_id = register(client, owner, legal_name="Kälte Kunz KG", trade_name=None)["id"]
    register(client, make_actor("member"))
    found = client.get(f"{API}/organisations", query_string={"q": "kunz"}, headers=admin.headers)
    assert [o["id"] for o in found.json["items"]] == [organisation_id]
    _problem(client.get(f"{API}/organisations", headers=member.headers), 403)
    _problem(
        client.post(f"{API}/organisations/{organisation_id}/activate", headers=member.headers), 403
    )
    _problem(client.get(f"{API}/organisations/999999", headers=cm.headers), 404)
    activate(client, cm, organisation_id)
    again = client.post(f"{API}/organisations/{organisation_id}/activate", headers=cm.headers)
    _problem(again, 409, "organisation-state-conflict")
    assert again.json["state"] == "active"
    suspend = client.post(f"{API}/organisations/{organisation_id}/suspend", headers=admin.headers)
    assert suspend.json["status"] == "suspended"
    assert activate(client, cm, organisation_id)["status"] == "active"
    view = client.get(f"{API}/organisations/{organisation_id}", headers=cm.headers).json
    assert [(m["member_id"], m["role"], m["member_status"]) for m in view["members"]] == [
        (owner.profile_id, "owner", "applicant")
    ]
    # Each decision is in the staff audit log, with the company's id.
    decisions = db.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.endpoint.like("organisations.%_organisation"), AuditEntry.method == "POST"
        )
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.endpoint, e.status_code, e.actor_user_id) for e in decisions] == [
        ("organisations.activate_organisation", 200, cm.user_id),
        ("organisations.activate_organisation", 409, cm.user_id),
        ("organisations.suspend_organisation", 200, admin.user_id),
        ("organisations.activate_organisation", 200, cm.user_id),
    ]
