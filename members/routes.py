"""HTTP for crowd members: skill catalogue, own profile, skills, availability, time off, status."""

from flask import Response

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema, page_of
from members import profile_photo, schemas, service

blp = CrowdBlueprint(
    "members",
    __name__,
    url_prefix="/api/v1",
    description="Crowd members: skills, profiles, availability and status",
)

MEMBER = "member"
# Staff and the member themself; the service hides other members' profiles (404).
STAFF_OR_SELF = (MEMBER, *STAFF)

# The catalogue only changes with a deploy; let clients and proxies keep it a while.
CATALOGUE_CACHE = {"Cache-Control": "public, max-age=300"}


@blp.route("/skills", methods=["GET"])
@blp.response(200, schemas.CatalogueSchema)
def list_skills():
    """The skill catalogue: device categories and the skills offered in each (public)."""
    return {"items": service.list_catalogue()}, CATALOGUE_CACHE


# --- the member's own profile ---------------------------------------------------------------


@blp.route("/me/member", methods=["GET"])
@blp.auth(MEMBER)
@blp.response(200, schemas.MemberSchema)
@blp.errors(404)
def get_own_profile():
    """Your crowd member profile with skills, availability, status and performance."""
    return service.get_own_profile(actor=current_principal())


@blp.route("/me/member", methods=["PATCH"])
@blp.auth(MEMBER)
@blp.arguments(schemas.MemberUpdateSchema)
@blp.response(200, schemas.MemberSchema)
@blp.errors(404)
def update_own_profile(data):
    """Change your contact details, location and capacity (not status, level or stats)."""
    return service.update_own_profile(actor=current_principal(), **data)


@blp.route("/me/member/skills", methods=["PUT"])
@blp.auth(MEMBER)
@blp.arguments(schemas.SkillClaimsSchema)
@blp.response(200, schemas.MemberSkillsSchema)
@blp.errors(404)
def replace_skills(data):
    """Replace the skills you offer; skills you keep stay verified."""
    return {"skills": service.replace_skills(actor=current_principal(), **data)}


@blp.route("/me/member/availability", methods=["GET"])
@blp.auth(MEMBER)
@blp.response(200, schemas.AvailabilitySchema)
@blp.errors(404)
def get_availability():
    """Your weekly availability in local time."""
    return {"slots": service.get_availability(actor=current_principal())}


@blp.route("/me/member/availability", methods=["PUT"])
@blp.auth(MEMBER)
@blp.arguments(schemas.AvailabilitySchema)
@blp.response(200, schemas.AvailabilitySchema)
@blp.errors(404)
def replace_availability(data):
    """Replace your weekly availability; slots on one weekday must not overlap."""
    return {"slots": service.replace_availability(actor=current_principal(), **data)}


@blp.route("/me/member/time-off", methods=["POST"])
@blp.auth(MEMBER)
@blp.idempotent
@blp.arguments(schemas.TimeOffCreateSchema)
@blp.response(201, schemas.TimeOffSchema)
@blp.errors(404)
def add_time_off(data):
    """Block a period (holiday, sick leave) in which you get no offers."""
    return service.add_time_off(actor=current_principal(), **data)


@blp.route("/me/member/time-off", methods=["GET"])
@blp.auth(MEMBER)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(schemas.TimeOffSchema))
@blp.errors(404)
def list_time_off(args):
    """Your time off that is not over yet, soonest first."""
    return service.list_upcoming_time_off(actor=current_principal(), **args)


@blp.route("/me/member/time-off/<int:time_off_id>", methods=["DELETE"])
@blp.auth(MEMBER)
@blp.response(204)
@blp.errors(404)
def delete_time_off(time_off_id):
    """Remove one of your time-off entries."""
    service.delete_time_off(actor=current_principal(), time_off_id=time_off_id)
    return Response(status=204)


@blp.route("/me/member/status", methods=["POST"])
@blp.auth(MEMBER)
@blp.arguments(schemas.MemberStatusActionSchema)
@blp.response(200, schemas.StatusChangeSchema)
@blp.errors(404, 409)
def change_own_status(data):
    """Pause, resume or leave the crowd; an action your status does not allow is a 409."""
    return service.change_own_status(actor=current_principal(), **data)


@blp.route("/me/profile-photo", methods=["PUT"])
@blp.auth(MEMBER)
@blp.arguments(schemas.ProfilePhotoSetSchema)
@blp.response(200, schemas.ProfilePhotoSchema)
@blp.errors(404)
def set_profile_photo(data):
    """Show this confirmed upload (purpose `profile_photo`) as your photo; the previous one is
    deleted."""
    return profile_photo.set_photo(actor=current_principal(), **data)


@blp.route("/me/profile-photo", methods=["DELETE"])
@blp.auth(MEMBER)
@blp.response(204)
@blp.errors(404)
def delete_profile_photo():
    """Remove your profile photo (its file is deleted)."""
    profile_photo.remove_photo(actor=current_principal())
    return Response(status=204)


@blp.route("/members/<int:member_id>/profile-photo", methods=["GET"])
@blp.auth()
@blp.response(200, schemas.ProfilePhotoSchema)
@blp.errors(404)
def get_profile_photo(member_id):
    """Short-lived URLs of a member's photo: for anyone signed in, of an active or paused
    member, like their reviews (staff and the member themself: any)."""
    return profile_photo.photo(actor=current_principal(), member_id=member_id)


# --- community managers ---------------------------------------------------------------------


@blp.route("/members", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.MemberQueryArgsSchema, location="query")
@blp.response(200, page_of(schemas.MemberSummarySchema))
def list_members(args):
    """Find crowd members by skill, status, place, level or name."""
    return service.list_members(actor=current_principal(), **args)


@blp.route("/members/<int:member_id>", methods=["GET"])
@blp.auth(*STAFF_OR_SELF)
@blp.response(200, schemas.MemberSchema)
@blp.errors(404)
def get_member(member_id):
    """A crowd member's full profile (staff, or the member themself)."""
    return service.get_member(actor=current_principal(), member_id=member_id)


@blp.route("/members/<int:member_id>/status", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(schemas.StaffStatusActionSchema)
@blp.response(200, schemas.StatusChangeSchema)
@blp.errors(404, 409)
def change_member_status(data, member_id):
    """Activate, suspend, reinstate or offboard a member, with a reason for the record."""
    return service.change_member_status(actor=current_principal(), member_id=member_id, **data)


@blp.route("/members/<int:member_id>/status-history", methods=["GET"])
@blp.auth(*STAFF_OR_SELF)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(schemas.StatusChangeSchema))
@blp.errors(404)
def status_history(args, member_id):
    """Every status change of a member, oldest first: from, to, why and by whom."""
    return service.status_history(actor=current_principal(), member_id=member_id, **args)


@blp.route("/members/<int:member_id>/skills/<slug>/verify", methods=["POST"])
@blp.auth(*STAFF)
@blp.response(200, schemas.MemberSkillSchema)
@blp.errors(404)
def verify_skill(member_id, slug):
    """Mark a skill the member claims as verified by you. A verified skill needs no passed
    skill test: it satisfies the onboarding step `skill_tests`."""
    return service.set_skill_verified(
        actor=current_principal(), member_id=member_id, slug=slug, verified=True
    )


@blp.route("/members/<int:member_id>/skills/<slug>/verify", methods=["DELETE"])
@blp.auth(*STAFF)
@blp.response(200, schemas.MemberSkillSchema)
@blp.errors(404)
def unverify_skill(member_id, slug):
    """Withdraw the verification of a member's skill."""
    return service.set_skill_verified(
        actor=current_principal(), member_id=member_id, slug=slug, verified=False
    )
