"""HTTP for recruitment: referral codes and referrals, channels, the funnel per source."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from recruitment import channels, codes, funnel, queries, referrals
from recruitment import schemas as s

blp = CrowdBlueprint(
    "recruitment", __name__, url_prefix="/api/v1", description="Recruitment and referrals"
)

MEMBER = "member"


# --- the member's code and referrals --------------------------------------------------------


@blp.route("/me/referral", methods=["GET"])
@blp.auth(MEMBER)
@blp.response(200, s.MyReferralSchema)
@blp.errors(404)
def get_my_referral():
    """Your referral code and link, your referrals counted by status and the rewards you
    earned. 404 until you are admitted (active members have a code)."""
    return codes.my_referral(actor=current_principal())


@blp.route("/me/referrals", methods=["GET"])
@blp.auth(MEMBER)
@blp.arguments(s.MyReferralArgsSchema, location="query")
@blp.response(200, s.MyReferralPageSchema)
@blp.errors(404)
def list_my_referrals(args):
    """The people who joined with your code, newest first: their display name, application
    status, onboarding progress, whether the milestone is reached, the referral's status and
    reward."""
    return queries.my_referrals(actor=current_principal(), **args)


# --- staff: referrals and codes -------------------------------------------------------------


@blp.route("/referrals", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(s.ReferralArgsSchema, location="query")
@blp.response(200, s.ReferralPageSchema)
def list_referrals(args):
    """Referrals filtered by `status` (e.g. review: the queue), `referrer_id`, `referred_id`;
    oldest first."""
    return queries.list_referrals(actor=current_principal(), **args)


@blp.route("/referrals/<int:referral_id>", methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, s.ReferralSchema)
@blp.errors(404)
def get_referral(referral_id):
    """One referral in full."""
    return queries.get_referral(actor=current_principal(), referral_id=referral_id)


@blp.route("/referrals/<int:referral_id>/approve", methods=["POST"])
@blp.auth(*STAFF)
@blp.response(200, s.ReferralSchema)
@blp.errors(404, 409)
def approve_referral(referral_id):
    """Approve a referral in review: the reward is credited now when the milestone is reached,
    else the hold is lifted and the reward follows at the milestone. 409 when it is not in
    review, or the same device or payout account stands against it (`reason`)."""
    referral = referrals.approve(actor=current_principal(), referral_id=referral_id)
    return queries.present_one(referral)


@blp.route("/referrals/<int:referral_id>/refuse", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(s.ReferralRefuseSchema)
@blp.response(200, s.ReferralSchema)
@blp.errors(404, 409)
def refuse_referral(data, referral_id):
    """Refuse a pending or held referral with a reason: no reward. 409 once it is settled."""
    referral = referrals.refuse(actor=current_principal(), referral_id=referral_id, **data)
    return queries.present_one(referral)


@blp.route("/referral-codes/<code>/disable", methods=["POST"])
@blp.auth(*STAFF)
@blp.response(200, s.ReferralCodeSchema)
@blp.errors(404, 409)
def disable_referral_code(code):
    """Disable a referral code (abuse): sign-ups naming it are refused from now on (422)."""
    return codes.disable_code(actor=current_principal(), code=code)


# --- staff: channels ------------------------------------------------------------------------


@blp.route("/recruitment-channels", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(s.ChannelCreateSchema)
@blp.response(201, s.ChannelSchema)
@blp.errors(409)
def create_channel(data):
    """A new event, partner (with its `partner_type`) or campaign applicants name by `code`
    (unique in any case; 409 when taken)."""
    return channels.create_channel(actor=current_principal(), **data)


@blp.route("/recruitment-channels", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(s.ChannelArgsSchema, location="query")
@blp.response(200, s.ChannelPageSchema)
def list_channels(args):
    """Recruitment channels filtered by `kind`, `active`, `country`."""
    return channels.list_channels(actor=current_principal(), **args)


@blp.route("/recruitment-channels/<int:channel_id>", methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, s.ChannelSchema)
@blp.errors(404)
def get_channel(channel_id):
    """One recruitment channel."""
    return channels.get_channel(actor=current_principal(), channel_id=channel_id)


@blp.route("/recruitment-channels/<int:channel_id>", methods=["PATCH"])
@blp.auth(*STAFF)
@blp.arguments(s.ChannelUpdateSchema)
@blp.response(200, s.ChannelSchema)
@blp.errors(404)
def update_channel(data, channel_id):
    """Change a channel's name, partner type, event, city, country or `active` (kind and code
    are fixed)."""
    return channels.update_channel(actor=current_principal(), channel_id=channel_id, **data)


# --- staff: the funnel ----------------------------------------------------------------------


@blp.route("/recruitment/funnel", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(s.FunnelArgsSchema, location="query")
@blp.response(200, s.FunnelSchema)
def get_funnel(args):
    """The funnel of members who first applied in [from, to] (whole UTC days, default the last
    90), per source and per channel: applied, passed a skill test, approved, first confirmed
    job, still active 90 days after approval, with step-to-step conversion."""
    return funnel.funnel(
        actor=current_principal(),
        start=args.get("from_"),
        end=args.get("to"),
        country=args.get("country"),
        source=args.get("source"),
        channel_id=args.get("channel_id"),
    )
