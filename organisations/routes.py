"""HTTP for provider companies: registering one, its particulars, members, invitations, and
the staff's list, view and decisions."""

from crowd.core.auth import current_principal
from crowd.core.files.schemas import DownloadSchema
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import page_of
from organisations import invitations, onboarding, schemas, service

blp = CrowdBlueprint(
    "organisations",
    __name__,
    url_prefix="/api/v1",
    description="Provider companies: a company with its technicians, roles and invitations",
)

OWN = "/me/organisation"
OWN_MEMBER = "/me/organisation/members/<int:member_id>"
STAFF_ONE = "/organisations/<int:organisation_id>"


# --- a member's company -----------------------------------------------------------------------


@blp.route("/organisations", methods=["POST"])
@blp.auth("member")
@blp.idempotent
@blp.arguments(schemas.OrganisationCreateSchema)
@blp.response(201, schemas.OwnOrganisationSchema)
@blp.errors(404, 409, 422)
def register_organisation(data):
    """Register your company and become its owner; it is `pending` until a community manager
    activates it. 409 when you belong to a company already."""
    return service.register(actor=current_principal(), **data)


@blp.route(OWN, methods=["GET"])
@blp.auth("member")
@blp.response(200, schemas.OwnOrganisationSchema)
@blp.errors(404)
def get_own_organisation():
    """Your company with your role in it; 404 when you belong to none."""
    return service.get_own(actor=current_principal())


@blp.route(OWN, methods=["PATCH"])
@blp.auth("member")
@blp.arguments(schemas.OrganisationUpdateSchema)
@blp.response(200, schemas.OwnOrganisationSchema)
@blp.errors(404, 409, 422)
def update_own_organisation(changes):
    """Change your company's particulars (checked whole) or allow_direct_accept: owners only."""
    return service.update_own(actor=current_principal(), **changes)


@blp.route(f"{OWN}/members", methods=["GET"])
@blp.auth("member")
@blp.response(200, schemas.OrganisationMemberListSchema)
@blp.errors(404)
def list_organisation_members():
    """Your company's members, past ones too: for owners and dispatchers (a technician
    gets 403; they see the company and their role at GET /me/organisation)."""
    return {"items": service.list_members(actor=current_principal())}


@blp.route(OWN_MEMBER, methods=["PATCH"])
@blp.auth("member")
@blp.arguments(schemas.MembershipUpdateSchema)
@blp.response(200, schemas.OrganisationMemberSchema)
@blp.errors(404, 409, 422)
def change_member_role(data, member_id):
    """Give a member of your company another role: owners only; the last owner stays (409)."""
    return service.change_role(actor=current_principal(), member_id=member_id, **data)


@blp.route(OWN_MEMBER, methods=["DELETE"])
@blp.auth("member")
@blp.response(204)
@blp.errors(404, 409)
def remove_member(member_id):
    """Remove a member from your company: owners only; their own record stays theirs."""
    service.remove_member(actor=current_principal(), member_id=member_id)


@blp.route(f"{OWN}/leave", methods=["POST"])
@blp.auth("member")
@blp.response(204)
@blp.errors(404, 409)
def leave_organisation():
    """Leave your company (the last owner cannot: 409); your profile, skills, jobs, reviews
    and level stay yours."""
    service.leave(actor=current_principal())


# --- the company's onboarding ----------------------------------------------------------------


@blp.route(f"{OWN}/house-rules/accept", methods=["POST"])
@blp.auth("member")
@blp.arguments(schemas.CompanyHouseRulesAcceptSchema)
@blp.response(200, schemas.OwnOrganisationSchema)
@blp.errors(404, 409, 422)
def accept_company_house_rules(data):
    """Accept the current house rules for your company (owners only; again is fine): one of
    the checks activation asks for. 409 for another version than the current one."""
    return onboarding.accept_house_rules(actor=current_principal(), **data)


@blp.route(f"{OWN}/insurance-certificate", methods=["PUT"])
@blp.auth("member")
@blp.arguments(schemas.InsuranceCertificateSetSchema)
@blp.response(200, schemas.OwnOrganisationSchema)
@blp.errors(404, 409, 422)
def set_insurance_certificate(data):
    """Your company's insurance certificate is this confirmed upload (purpose
    `insurance_certificate`, an image or a PDF): owners only. The previous one is deleted and
    the community manager's decision on the checks is asked again."""
    return onboarding.set_insurance_certificate(actor=current_principal(), **data)


@blp.route(f"{STAFF_ONE}/insurance-certificate", methods=["GET"])
@blp.auth("member", "community_manager", "admin")
@blp.response(200, DownloadSchema)
@blp.errors(404)
def get_insurance_certificate(organisation_id):
    """Short-lived URLs of a company's insurance certificate: its owners and staff."""
    return onboarding.insurance_certificate(
        actor=current_principal(), organisation_id=organisation_id
    )


@blp.route(f"{STAFF_ONE}/checks/decision", methods=["POST"])
@blp.auth("community_manager", "admin")
@blp.arguments(schemas.ChecksDecisionCreateSchema)
@blp.response(200, schemas.OrganisationChecksSchema)
@blp.errors(404, 409, 422)
def decide_organisation_checks(data, organisation_id):
    """Record the decision on a company's business checks (trade register, insurance
    certificate), with who and when; `verified` is one of the checks activation asks for."""
    return onboarding.decide_checks(
        actor=current_principal(), organisation_id=organisation_id, **data
    )


# --- invitations ------------------------------------------------------------------------------


@blp.route(f"{OWN}/invitations", methods=["POST"])
@blp.auth("member")
@blp.idempotent
@blp.arguments(schemas.OrganisationInvitationCreateSchema)
@blp.response(201, schemas.OrganisationInvitationSchema)
@blp.errors(404, 409, 422)
def invite(data):
    """Invite an email address to join your company; the link goes to that address. Owners
    invite in any role, dispatchers technicians only."""
    return invitations.invite(actor=current_principal(), **data)


@blp.route(f"{OWN}/invitations", methods=["GET"])
@blp.auth("member")
@blp.response(200, schemas.OrganisationInvitationListSchema)
@blp.errors(404)
def list_invitations():
    """Your company's open invitations, newest first: for owners and dispatchers."""
    return {"items": invitations.list_open(actor=current_principal())}


@blp.route(f"{OWN}/invitations/<int:invitation_id>", methods=["DELETE"])
@blp.auth("member")
@blp.response(204)
@blp.errors(404, 410)
def revoke_invitation(invitation_id):
    """Revoke an open invitation of your company (410 when no longer open)."""
    invitations.revoke(actor=current_principal(), invitation_id=invitation_id)


@blp.route("/organisation-invitations/accept", methods=["POST"])
@blp.auth("member")
@blp.arguments(schemas.OrganisationInvitationAcceptSchema)
@blp.response(200, schemas.OwnOrganisationSchema)
@blp.errors(404, 409, 410, 422)
def accept_invitation(data):
    """Join a company with the emailed link's token, signed in with the invited address.
    410 when it expired, was revoked or used; 409 when you are in a company already."""
    return invitations.accept(actor=current_principal(), **data)


# --- staff ------------------------------------------------------------------------------------


@blp.route("/organisations", methods=["GET"])
@blp.auth("community_manager", "admin")
@blp.arguments(schemas.OrganisationQueryArgsSchema, location="query")
@blp.response(200, page_of(schemas.OrganisationSchema))
def list_organisations(args):
    """Companies by status and name (legal or trade name contains), paginated."""
    return service.search(actor=current_principal(), **args)


@blp.route(STAFF_ONE, methods=["GET"])
@blp.auth("community_manager", "admin")
@blp.response(200, schemas.OrganisationDetailSchema)
@blp.errors(404)
def get_organisation(organisation_id):
    """A company with its members: roles, memberships, each member's own status and level."""
    return service.staff_view(actor=current_principal(), organisation_id=organisation_id)


@blp.route(f"{STAFF_ONE}/activate", methods=["POST"])
@blp.auth("community_manager", "admin")
@blp.response(200, schemas.OrganisationDetailSchema)
@blp.errors(404, 409)
def activate_organisation(organisation_id):
    """Activate a pending or suspended company; 409 `organisation-checks-missing` naming the
    checks not done yet (`missing`: house_rules, insurance_certificate, checks_verified)."""
    return service.decide(
        actor=current_principal(), organisation_id=organisation_id, action="activate"
    )


@blp.route(f"{STAFF_ONE}/suspend", methods=["POST"])
@blp.auth("community_manager", "admin")
@blp.response(200, schemas.OrganisationDetailSchema)
@blp.errors(404, 409)
def suspend_organisation(organisation_id):
    """Suspend a pending or active company."""
    return service.decide(
        actor=current_principal(), organisation_id=organisation_id, action="suspend"
    )
