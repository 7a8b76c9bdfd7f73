"""HTTP for topic groups: groups, threads and replies, moderation, reports and mutes.

Topic groups are the members' space: customers are refused (403) everywhere.
"""

from community import groups, moderation, mutes, posts, reports
from community import schemas as s
from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema

blp = CrowdBlueprint(
    "community",
    __name__,
    url_prefix="/api/v1",
    description="Topic groups: activity-related exchange among members, moderated",
)

MEMBERS_AND_STAFF = ("member", *STAFF)


# --- groups --------------------------------------------------------------------------------------


@blp.route("/topic-groups", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(s.TopicGroupCreateSchema)
@blp.response(201, s.TopicGroupSchema)
def create_group(data):
    """Create a group about a skill (`skill_id`, optionally `requires_verified_skill`), a
    region (`country`, optionally `postcode_prefix` and `city`) or a programme (`programme`:
    mentors, mentees, top_performers), optionally from a level rank on. The kind's field is
    required; another kind's fields are a 422 naming the field; a taken slug a 409."""
    return groups.create_group(actor=current_principal(), **data)


@blp.route("/topic-groups", methods=["GET"])
@blp.auth(*MEMBERS_AND_STAFF)
@blp.arguments(s.TopicGroupQueryArgsSchema, location="query")
@blp.response(200, s.TopicGroupPageSchema)
def list_groups(args):
    """Groups by name. Members see the groups they belong to and the live ones they qualify
    for (`joined`, `qualifies`); staff see all."""
    return groups.list_groups(actor=current_principal(), **args)


@blp.route("/topic-groups/<int:group_id>", methods=["GET"])
@blp.auth(*MEMBERS_AND_STAFF)
@blp.response(200, s.TopicGroupSchema)
@blp.errors(404)
def get_group(group_id):
    """One group; a member who neither belongs nor qualifies gets 404."""
    return groups.get_group(actor=current_principal(), group_id=group_id)


@blp.route("/topic-groups/<int:group_id>", methods=["PATCH"])
@blp.auth(*STAFF)
@blp.arguments(s.TopicGroupUpdateSchema)
@blp.response(200, s.TopicGroupSchema)
@blp.errors(404, 409, 422)
def update_group(data, group_id):
    """Edit a live group (archived: 409). New rules apply to later joins; members stay."""
    return groups.update_group(actor=current_principal(), group_id=group_id, **data)


@blp.route("/topic-groups/<int:group_id>/archive", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(s.GroupArchiveSchema)
@blp.response(200, s.TopicGroupSchema)
@blp.errors(404, 409)
def archive_group(data, group_id):
    """Archive a group: read-only from now on, gone from discovery (twice: 409)."""
    return groups.archive_group(actor=current_principal(), group_id=group_id, **data)


@blp.route("/topic-groups/<int:group_id>/join", methods=["POST"])
@blp.auth("member")
@blp.response(200, s.TopicGroupSchema)
@blp.errors(403, 404, 409)
def join_group(group_id):
    """Join a group you qualify for; otherwise 403 naming the rule (`reason`: status, level,
    skill, region or programme). Archived: 409. Joining again changes nothing."""
    return groups.join_group(actor=current_principal(), group_id=group_id)


@blp.route("/topic-groups/<int:group_id>/leave", methods=["POST"])
@blp.auth("member")
@blp.response(200, s.TopicGroupSchema)
@blp.errors(404)
def leave_group(group_id):
    """Leave a group; leaving one you are not in changes nothing."""
    return groups.leave_group(actor=current_principal(), group_id=group_id)


# --- threads and replies -------------------------------------------------------------------------


@blp.route("/topic-groups/<int:group_id>/threads", methods=["POST"])
@blp.auth(*MEMBERS_AND_STAFF)
@blp.idempotent
@blp.arguments(s.TopicThreadCreateSchema)
@blp.response(201, s.TopicThreadSchema)
@blp.errors(403, 404, 409, 429)
def create_thread(data, group_id):
    """Open a thread in a group you belong to (staff: any). Paused, suspended or muted
    members get 403 (a mute names its end); an archived group is a 409; past the hourly
    limit (COMMUNITY_POSTS_PER_MEMBER_HOUR) a 429."""
    return posts.create_thread(actor=current_principal(), group_id=group_id, **data)


@blp.route("/topic-groups/<int:group_id>/threads", methods=["GET"])
@blp.auth(*MEMBERS_AND_STAFF)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, s.TopicThreadPageSchema)
@blp.errors(403, 404)
def list_threads(args, group_id):
    """Threads, pinned first, then the most recently active. Group members and staff only
    (a member who has not joined: 403); hidden threads only for moderators."""
    return posts.list_threads(actor=current_principal(), group_id=group_id, **args)


@blp.route("/topic-threads/<int:thread_id>", methods=["GET"])
@blp.auth(*MEMBERS_AND_STAFF)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, s.TopicThreadDetailSchema)
@blp.errors(403, 404)
def get_thread(args, thread_id):
    """A thread and a page of its replies, oldest first; hidden replies keep their place
    without body or author (moderators see them, flagged)."""
    return posts.get_thread(actor=current_principal(), thread_id=thread_id, **args)


@blp.route("/topic-threads/<int:thread_id>/replies", methods=["POST"])
@blp.auth(*MEMBERS_AND_STAFF)
@blp.idempotent
@blp.arguments(s.TopicReplyCreateSchema)
@blp.response(201, s.TopicPostSchema)
@blp.errors(403, 404, 409, 429)
def reply(data, thread_id):
    """Reply to a thread; a locked thread is a 409 with state `locked`. The same rules as
    for threads apply; the thread's author is told."""
    return posts.reply(actor=current_principal(), thread_id=thread_id, **data)


@blp.route("/topic-posts/<int:post_id>", methods=["PATCH"])
@blp.auth(*MEMBERS_AND_STAFF)
@blp.arguments(s.TopicPostUpdateSchema)
@blp.response(200, s.TopicPostSchema)
@blp.errors(403, 404, 409, 422)
def edit_post(data, post_id):
    """Edit your post within COMMUNITY_EDIT_WINDOW_MINUTES (then 409 `edit_window_closed`);
    hidden posts and locked threads cannot be edited (409)."""
    return posts.edit_post(actor=current_principal(), post_id=post_id, **data)


# --- moderation ----------------------------------------------------------------------------------


@blp.route("/topic-posts/<int:post_id>/hide", methods=["POST"])
@blp.auth(*MEMBERS_AND_STAFF)
@blp.arguments(s.PostHideSchema)
@blp.response(200, s.TopicPostSchema)
@blp.errors(403, 404, 409)
def hide_post(data, post_id):
    """Hide a post (moderators: community managers, and mentors in their groups, not on
    staff posts); the author is told the reason. Logged."""
    return moderation.hide_post(actor=current_principal(), post_id=post_id, **data)


@blp.route("/topic-posts/<int:post_id>/unhide", methods=["POST"])
@blp.auth(*MEMBERS_AND_STAFF)
@blp.arguments(s.ModerationReasonSchema)
@blp.response(200, s.TopicPostSchema)
@blp.errors(403, 404, 409)
def unhide_post(data, post_id):
    """Show a hidden post again (moderators). Logged."""
    return moderation.unhide_post(actor=current_principal(), post_id=post_id, **data)


@blp.route("/topic-threads/<int:thread_id>/<action>", methods=["POST"])
@blp.auth(*MEMBERS_AND_STAFF)
@blp.arguments(s.ModerationReasonSchema)
@blp.response(200, s.TopicThreadSchema)
@blp.errors(403, 404, 409)
def moderate_thread(data, thread_id, action):
    """`action`: lock (no more replies), unlock, pin (listed first) or unpin a thread
    (moderators); another action is a 404. Logged; asking for the state it is in changes
    nothing."""
    return moderation.moderate_thread(
        actor=current_principal(), thread_id=thread_id, action=action, **data
    )


@blp.route("/topic-groups/<int:group_id>/moderation-log", methods=["GET"])
@blp.auth(*MEMBERS_AND_STAFF)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, s.ModerationActionPageSchema)
@blp.errors(403, 404)
def moderation_log(args, group_id):
    """Who hid, locked, pinned what and why in the group, newest first (moderators)."""
    return moderation.moderation_log(actor=current_principal(), group_id=group_id, **args)


# --- reports -------------------------------------------------------------------------------------


@blp.route("/topic-posts/<int:post_id>/reports", methods=["POST"])
@blp.auth("member")
@blp.idempotent
@blp.arguments(s.PostReportCreateSchema)
@blp.response(201, s.PostReportSchema)
@blp.errors(403, 404, 409)
def report_post(data, post_id):
    """Report a post in a group you belong to (not your own): spam, abuse, off_topic,
    personal_data or other. Once per post (again: 409)."""
    return reports.report_post(actor=current_principal(), post_id=post_id, **data)


@blp.route("/topic-reports", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(s.PostReportQueryArgsSchema, location="query")
@blp.response(200, s.QueuedPostReportPageSchema)
def list_reports(args):
    """The report queue, oldest first; ?status=open for the work to do."""
    return reports.list_reports(actor=current_principal(), **args)


@blp.route("/topic-reports/<int:report_id>/decide", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(s.ReportDecisionSchema)
@blp.response(200, s.ReportDecisionResultSchema)
@blp.errors(404, 409)
def decide_report(data, report_id):
    """Uphold (the post is hidden, its author told) or dismiss a report, together with
    every other open report of the post. Decided already: 409 with its status."""
    return reports.decide_report(actor=current_principal(), report_id=report_id, **data)


# --- mutes ---------------------------------------------------------------------------------------


@blp.route("/members/<int:member_id>/community-mutes", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(s.CommunityMuteCreateSchema)
@blp.response(201, s.CommunityMuteSchema)
@blp.errors(404, 409)
def mute_member(data, member_id):
    """Mute a member in all topic groups until `until` (or until lifted); they can still
    read. Muted already: 409 `muted`. The member is told."""
    return mutes.mute_member(actor=current_principal(), member_id=member_id, **data)


@blp.route("/community-mutes/<int:mute_id>/lift", methods=["POST"])
@blp.auth(*STAFF)
@blp.response(200, s.CommunityMuteSchema)
@blp.errors(404, 409)
def lift_mute(mute_id):
    """Lift a mute in force (lifted or ended already: 409)."""
    return mutes.lift_mute(actor=current_principal(), mute_id=mute_id)


@blp.route("/community-mutes", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(s.CommunityMuteQueryArgsSchema, location="query")
@blp.response(200, s.CommunityMutePageSchema)
def list_mutes(args):
    """Mutes, newest first; ?active=true for those in force, ?member_id= for one member."""
    return mutes.list_mutes(actor=current_principal(), **args)
