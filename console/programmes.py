"""Programmes: mentors and mentorships, top-performer runs and badges, events — for community
managers, with a hub that also links the communication pages (console_comms) once they exist.

Thin views over the services the API routes call (mentoring.mentors.*, mentoring.top_performers.*,
mentoring.events.*): forms are loaded with the API's own schemas, a refusal shows the page again
with the message and its status (the request's unit of work rolls back), a success redirects
(POST → 303 → GET). The mentorships table downloads as CSV with the page's filters.
"""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, redirect, request, url_for

from console.csv_export import csv_response, rows
from console.forms import fields as _form
from console.forms import problem as _problem
from console.forms import status as _status
from console.forms import utc as _utc
from console.web import ConsoleBlueprint, render, signed_in
from crowd.core.errors import DomainError
from crowd.core.i18n import _l
from crowd.extensions import db
from members.models import COUNTRIES
from mentoring.events import invitations, service
from mentoring.mentors import assignment, graduation, lifecycle, profiles, sessions
from mentoring.models import EVENT_KINDS, MENTORSHIP_STATUSES
from mentoring.schemas import events as event_schemas
from mentoring.schemas import mentors as mentor_schemas
from mentoring.schemas import top_performers as top_schemas
from mentoring.top_performers import badges, queries, runs

blp = ConsoleBlueprint("console_programmes", __name__, url_prefix="/console/programmes")

PAGE_SIZE = 25
INVITATIONS_PAGE = 100
AVAILABLE_SHOWN = 25  # mentors with a spare place offered in each assign form
# The communication pages another area builds (console_comms): linked from the hub once they
# exist.
COMMS_PAGES = (
    ("console_comms.broadcasts", _l("Broadcasts"), _l("compose, schedule, delivery, read rates")),
    ("console_comms.articles", _l("Help-centre articles"), _l("write and publish articles")),
    ("console_comms.moderation", _l("Topic-group moderation"), _l("reported posts queue")),
)
Refused = (ma.ValidationError, DomainError)


def _actor():
    return signed_in().principal


def _ints(data: dict, *names: str) -> dict:
    """Form values of the schema's strict integer fields as ints (others left for the schema
    to refuse with its message)."""
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and value.isdigit():
            data[name] = int(value)
    return data


def _query(schema: ma.Schema, *names: str) -> dict:
    """The page's query arguments `names`, loaded with the API's query schema (what it
    refuses raises); empty ones and the schema's defaults of None are left out, and the page
    chooses its own size."""
    raw = {name: value for name in names if (value := request.args.get(name, "").strip())}
    loaded = schema.load(raw)
    return {k: v for k, v in loaded.items() if v is not None and k != "limit"}


def _pager(endpoint: str, page: dict, param: str = "cursor", **values) -> dict:
    """Next/first page links that keep the page's other query arguments."""
    kept = {k: v for k, v in request.args.to_dict(flat=False).items() if k != param}
    nxt = page["page"].get("next_cursor")
    return {
        "next_url": url_for(endpoint, **values, **kept, **{param: nxt}) if nxt else None,
        "first_url": url_for(endpoint, **values, **kept) if request.args.get(param) else None,
    }


def _refused(refused, *, not_found_page: bool = True) -> tuple[int, str]:
    """A refused action: its status and message, with whatever it did undone first — the unit
    of work would roll back after the response anyway, but the page shown again must not show
    a half-done change (a reassignment's end without its new mentorship). An unknown target
    (404) is the error page, unless the form named it (`not_found_page=False`)."""
    db.session.rollback()
    status = _status(refused)
    if status == 404 and not_found_page:
        raise refused
    return status, _problem(refused)


# --- the hub --------------------------------------------------------------------------------


@blp.page("/")
def index():
    """The programme areas with their key counts, and the communication pages."""
    actor = _actor()
    latest = queries.list_runs(actor=actor, limit=1)["items"]
    figures = {
        "active_mentorships": lifecycle.list_mentorships(actor=actor, status="active", limit=1)[
            "page"
        ]["total"],
        "unmatched": assignment.unmatched(actor=actor, limit=1)["page"]["total"],
        "latest_run": latest[0] if latest else None,
        "upcoming_events": service.list_events(actor=actor, upcoming=True, limit=1)["page"][
            "total"
        ],
    }
    comms = [
        {"url": url_for(endpoint), "label": label, "what": what}
        for endpoint, label, what in COMMS_PAGES
        if endpoint in current_app.view_functions
    ]
    return render("programmes/index.html", figures=figures, comms=comms)


# --- mentoring ------------------------------------------------------------------------------


def _mentoring_page(*, status: int = 200, filter_error: str | None = None, **extra):
    actor = _actor()
    args = request.args
    error = filter_error
    try:
        filters = _query(mentor_schemas.MentorshipArgsSchema(), "status", "mentor_id", "cursor")
    except ma.ValidationError as refused:
        filters, error, status = {}, _problem(refused), 422
    availability = (
        args.get("availability") if args.get("availability") in profiles.AVAILABILITY else None
    )
    mentorships = lifecycle.list_mentorships(actor=actor, limit=PAGE_SIZE, **filters)
    mentors = profiles.list_mentors(
        actor=actor,
        availability=availability,
        limit=PAGE_SIZE,
        cursor=args.get("mentors_cursor") or None,
    )
    unmatched = assignment.unmatched(
        actor=actor, limit=PAGE_SIZE, cursor=args.get("unmatched_cursor") or None
    )
    available = profiles.list_mentors(actor=actor, availability="available", limit=AVAILABLE_SHOWN)
    return render(
        "programmes/mentoring.html",
        status=status,
        mentorships=mentorships,
        mentors=mentors,
        unmatched=unmatched,
        available=available["items"],
        statuses=MENTORSHIP_STATUSES,
        availabilities=profiles.AVAILABILITY,
        chosen_status=filters.get("status"),
        chosen_mentor=filters.get("mentor_id"),
        csv_url=url_for(".mentorships_csv", **{k: v for k, v in filters.items() if k != "cursor"}),
        chosen_availability=availability,
        filter_error=error,
        pages={
            "mentorships": _pager(".mentoring", mentorships),
            "mentors": _pager(".mentoring", mentors, "mentors_cursor"),
            "unmatched": _pager(".mentoring", unmatched, "unmatched_cursor"),
        },
        done=args.get("done"),
        **extra,
    )


@blp.page("/mentoring")
def mentoring():
    """Mentors with availability and load, mentorships (filter status), unmatched mentees."""
    return _mentoring_page()


@blp.page("/mentoring/mentorships.csv")
def mentorships_csv():
    """The mentorships as CSV, with the page's status filter, streamed."""
    try:
        filters = _query(mentor_schemas.MentorshipArgsSchema(), "status", "mentor_id")
    except ma.ValidationError as refused:
        return _mentoring_page(status=422, filter_error=_problem(refused))
    query = lifecycle.export_query(actor=_actor(), **filters)
    return csv_response("mentorships", lifecycle.EXPORT_COLUMNS, rows(query))


@blp.page("/mentoring/assign", methods=("POST",))
def assign():
    """Pair an unmatched mentee with a mentor (POST /mentorships: proposed, the mentor
    accepts)."""
    try:
        data = mentor_schemas.MentorshipCreateSchema().load(
            _ints(_form("mentee_id", "mentor_id"), "mentee_id", "mentor_id")
        )
        made = assignment.staff_assign(actor=_actor(), **data)
    except Refused as refused:
        status, message = _refused(refused, not_found_page=False)
        return _mentoring_page(status=status, assign_error=message)
    return redirect(url_for(".mentorship", mentorship_id=made["id"], done="assigned"), 303)


def _mentorship_page(mentorship_id: int, *, status: int = 200, **extra):
    actor = _actor()
    mentorship = lifecycle.get_mentorship(actor=actor, mentorship_id=mentorship_id)
    available = profiles.list_mentors(actor=actor, availability="available", limit=AVAILABLE_SHOWN)
    return render(
        "programmes/mentorship.html",
        status=status,
        m=mentorship,
        sessions=sessions.list_sessions(actor=actor, mentorship_id=mentorship_id)["items"],
        available=[
            a for a in available["items"] if a["member_id"] != mentorship["mentor"]["member_id"]
        ],
        kinds=mentor_schemas.LOGGED_KINDS,
        done=request.args.get("done"),
        errors=extra.pop("errors", {}),
        **extra,
    )


@blp.page("/mentoring/<int:mentorship_id>")
def mentorship(mentorship_id):
    """A mentorship: its parties and state, its sessions and shadowed jobs, and the actions."""
    return _mentorship_page(mentorship_id)


def _mentorship_action(mentorship_id: int, anchor: str, act):
    """Run `act()`; a refusal shows the mentorship again with the message (key `anchor`)."""
    try:
        result = act()
    except Refused as refused:
        status, message = _refused(refused, not_found_page=anchor != "shadow")
        return _mentorship_page(mentorship_id, status=status, errors={anchor: message})
    target = (result or {}).get("id", mentorship_id) if anchor == "reassign" else mentorship_id
    return redirect(url_for(".mentorship", mentorship_id=target, done=anchor) + f"#{anchor}", 303)


@blp.page("/mentoring/<int:mentorship_id>/end", methods=("POST",))
def end(mentorship_id):
    """End the mentorship with a reason (the mentee waits in the unmatched queue)."""

    def act():
        data = mentor_schemas.MentorshipReasonSchema().load(_form("reason"))
        return lifecycle.end(actor=_actor(), mentorship_id=mentorship_id, **data)

    return _mentorship_action(mentorship_id, "end", act)


@blp.page("/mentoring/<int:mentorship_id>/reassign", methods=("POST",))
def reassign(mentorship_id):
    """Another mentor: end this one and propose the new one, both or neither."""

    def act():
        data = mentor_schemas.MentorshipReassignSchema().load(
            _ints(_form("mentor_id", "reason"), "mentor_id")
        )
        return assignment.reassign(actor=_actor(), mentorship_id=mentorship_id, **data)

    return _mentorship_action(mentorship_id, "reassign", act)


@blp.page("/mentoring/<int:mentorship_id>/graduate", methods=("POST",))
def graduate(mentorship_id):
    """Graduate the mentee (cause staff); the mentor's reward is paid."""
    return _mentorship_action(
        mentorship_id,
        "graduate",
        lambda: graduation.graduate(actor=_actor(), mentorship_id=mentorship_id),
    )


@blp.page("/mentoring/<int:mentorship_id>/sessions", methods=("POST",))
def log_session(mentorship_id):
    """Log a call, chat or ride-along on the mentor's behalf."""

    def act():
        fields = _form("kind", "occurred_at", "duration_minutes", "mentor_notes")
        if "occurred_at" in fields:
            fields["occurred_at"] = _utc(fields["occurred_at"])
        data = mentor_schemas.SessionCreateSchema().load(_ints(fields, "duration_minutes"))
        return sessions.log_session(actor=_actor(), mentorship_id=mentorship_id, **data)

    return _mentorship_action(mentorship_id, "sessions", act)


@blp.page("/mentoring/<int:mentorship_id>/shadow", methods=("POST",))
def shadow(mentorship_id):
    """The mentee shadows one of the mentor's assigned or running jobs."""

    def act():
        data = mentor_schemas.ShadowCreateSchema().load(_ints(_form("job_id"), "job_id"))
        return sessions.shadow(actor=_actor(), mentorship_id=mentorship_id, **data)

    return _mentorship_action(mentorship_id, "shadow", act)


# --- top performers -------------------------------------------------------------------------


def _top_page(*, status: int = 200, **extra):
    actor = _actor()
    args = request.args
    error = None
    try:
        holder_filters = _query(top_schemas.HolderQueryArgsSchema(), "region", "category")
        holders = queries.list_holders(
            actor=actor,
            limit=PAGE_SIZE,
            cursor=args.get("holders_cursor") or None,
            **holder_filters,
        )
    except Refused as refused:
        error, status = _problem(refused), _status(refused)
        holder_filters = {}
        holders = queries.list_holders(actor=actor, limit=PAGE_SIZE)
    run_page = queries.list_runs(actor=actor, limit=PAGE_SIZE, cursor=args.get("cursor") or None)
    return render(
        "programmes/top_performers.html",
        status=status,
        runs=run_page,
        holders=holders,
        filters=holder_filters,
        filter_error=error,
        pages={
            "runs": _pager(".top_performers", run_page),
            "holders": _pager(".top_performers", holders, "holders_cursor"),
        },
        done=args.get("done"),
        **extra,
    )


@blp.page("/top-performers")
def top_performers():
    """The runs, starting a run, the badges in force (filter region, category), revoking."""
    return _top_page()


@blp.page("/top-performers/runs", methods=("POST",))
def start_run():
    """Run the evaluation for a period that has ended (default: the latest one)."""
    try:
        data = top_schemas.RunCreateSchema().load(_form("period"))
        run = runs.run_period(actor=_actor(), **data)
    except Refused as refused:
        status, message = _refused(refused)
        return _top_page(status=status, run_error=message)
    return redirect(url_for(".run", run_id=run.id, done="started"), 303)


@blp.page("/top-performers/runs/<int:run_id>")
def run(run_id):
    """A run: its criteria, counts per cell, and every decision with its figures (filters as
    GET /top-performer-runs/{id}/decisions)."""
    actor = _actor()
    detail = queries.show_run(actor=actor, run_id=run_id)
    status, error = 200, None
    try:
        filters = _query(
            top_schemas.DecisionQueryArgsSchema(),
            *("member_id", "category", "region", "awarded", "cursor"),
        )
        decisions = queries.list_decisions(actor=actor, run_id=run_id, limit=PAGE_SIZE, **filters)
    except Refused as refused:
        status, error, filters = _status(refused), _problem(refused), {}
        decisions = queries.list_decisions(actor=actor, run_id=run_id, limit=PAGE_SIZE)
    return render(
        "programmes/run.html",
        status=status,
        run=detail["run"],
        cells=detail["cells"],
        decisions=decisions,
        args=request.args,
        filter_error=error,
        pages=_pager(".run", decisions, run_id=run_id),
        done=request.args.get("done"),
    )


@blp.page("/top-performers/badges/<int:badge_id>/revoke", methods=("POST",))
def revoke(badge_id):
    """Revoke a badge in force, with the reason (its perks stop)."""
    try:
        data = top_schemas.RevokeSchema().load(_form("reason"))
        badges.revoke_badge(actor=_actor(), badge_id=badge_id, **data)
    except Refused as refused:
        status, message = _refused(refused)
        return _top_page(status=status, revoke_error=(badge_id, message))
    return redirect(url_for(".top_performers", done="revoked") + "#holders", 303)


# --- events ---------------------------------------------------------------------------------


@blp.page("/events")
def events():
    """Events, soonest first, with their invitation counts (filter status, kind, upcoming)."""
    args = request.args
    status, error = 200, None
    try:
        filters = _query(
            event_schemas.EventQueryArgsSchema(), "status", "kind", "upcoming", "cursor"
        )
    except ma.ValidationError as refused:
        status, error, filters = 422, _problem(refused), {}
    page = service.list_events(actor=_actor(), limit=PAGE_SIZE, **filters)
    return render(
        "programmes/events.html",
        status=status,
        page=page,
        args=args,
        statuses=event_schemas.EVENT_STATUSES,
        kinds=EVENT_KINDS,
        filter_error=error,
        pages=_pager(".events", page),
    )


_EVENT_FIELDS = (
    "kind", "title", "description", "starts_at", "ends_at", "venue", "city", "country",
    "lat", "lon", "capacity",
)  # fmt: skip


@blp.page("/events/new", methods=("GET", "POST"))
def new_event():
    """Create an event (a draft), with the API's schema."""
    if request.method == "GET":
        return render("programmes/event_new.html", form={}, kinds=EVENT_KINDS, countries=COUNTRIES)
    fields = _form(*_EVENT_FIELDS)
    for name in ("starts_at", "ends_at"):
        if name in fields:
            fields[name] = _utc(fields[name])
    try:
        data = event_schemas.EventCreateSchema().load(_ints(dict(fields), "capacity"))
        made = service.create_event(actor=_actor(), **data)
    except Refused as refused:
        return render(
            "programmes/event_new.html",
            status=_status(refused),
            form=request.form,
            error=_problem(refused),
            kinds=EVENT_KINDS,
            countries=COUNTRIES,
        )
    return redirect(url_for(".event", event_id=made["id"], done="created"), 303)


def _all_invitations(event_id: int, status: str | None = None) -> list[dict]:
    items, cursor = [], None
    while True:
        page = invitations.list_invitations(
            actor=_actor(), event_id=event_id, status=status, limit=INVITATIONS_PAGE, cursor=cursor
        )
        items.extend(page["items"])
        cursor = page["page"].get("next_cursor")
        if not cursor:
            return items


def _event_page(event_id: int, *, status: int = 200, **extra):
    actor = _actor()
    event = service.get_event(actor=actor, event_id=event_id)
    page = invitations.list_invitations(
        actor=actor,
        event_id=event_id,
        limit=INVITATIONS_PAGE,
        cursor=request.args.get("cursor") or None,
    )
    return render(
        "programmes/event.html",
        status=status,
        event=event,
        invitations=page,
        pages=_pager(".event", page, event_id=event_id),
        countries=COUNTRIES,
        done=request.args.get("done"),
        errors=extra.pop("errors", {}),
        **extra,
    )


@blp.page("/events/<int:event_id>")
def event(event_id):
    """An event: publish, cancel, list the eligible members, invite them, the invitations with
    their answers, attendance."""
    return _event_page(event_id)


def _event_action(event_id: int, anchor: str, act):
    try:
        act()
    except Refused as refused:
        status, message = _refused(refused)
        return _event_page(event_id, status=status, errors={anchor: message})
    return redirect(url_for(".event", event_id=event_id, done=anchor) + f"#{anchor}", 303)


@blp.page("/events/<int:event_id>/publish", methods=("POST",))
def publish(event_id):
    return _event_action(
        event_id, "state", lambda: service.publish_event(actor=_actor(), event_id=event_id)
    )


@blp.page("/events/<int:event_id>/cancel", methods=("POST",))
def cancel(event_id):
    return _event_action(
        event_id, "state", lambda: service.cancel_event(actor=_actor(), event_id=event_id)
    )


@blp.page("/events/<int:event_id>/eligible", methods=("POST",))
def list_eligible(event_id):
    """List every eligible member (optionally of some countries) as `eligible`."""

    def act():
        chosen = [c for c in request.form.getlist("countries") if c]
        data = event_schemas.EligibleCreateSchema().load({"countries": chosen} if chosen else {})
        invitations.list_eligible(actor=_actor(), event_id=event_id, **data)

    return _event_action(event_id, "eligible", act)


@blp.page("/events/<int:event_id>/invitations", methods=("POST",))
def invite(event_id):
    """Invite the checked eligible members, or (`all`) every member listed as eligible."""

    def act():
        if request.form.get("all"):
            ids = [i["member_id"] for i in _all_invitations(event_id, "eligible")]
        else:
            ids = [int(v) if v.isdigit() else v for v in request.form.getlist("member_ids")]
        size = event_schemas.MAX_IDS
        for start in range(0, max(len(ids), 1), size):
            data = event_schemas.InviteSchema().load({"member_ids": ids[start : start + size]})
            invitations.invite(actor=_actor(), event_id=event_id, **data)

    return _event_action(event_id, "invite", act)


@blp.page("/events/<int:event_id>/attendance", methods=("POST",))
def attendance(event_id):
    """Mark who came (attended) and who did not (no_show) among the accepted invitees."""

    def act():
        marks = {"attend": [], "no_show": []}
        for key, value in request.form.items():
            member = key.removeprefix("mark-")
            if key.startswith("mark-") and member.isdigit() and value in marks:
                marks[value].append(int(member))
        data = event_schemas.AttendanceSchema().load(
            {"attended": marks["attend"], "no_show": marks["no_show"]}
        )
        invitations.mark_attendance(actor=_actor(), event_id=event_id, **data)

    return _event_action(event_id, "attendance", act)
