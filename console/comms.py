"""Programmes' communication: broadcasts to crowd segments, help-centre articles and the
moderation of the topic groups — pages under /console/programmes (the Programmes area).

Thin views over the services the API routes call: mentoring.broadcasts.service (compose in
German and English, preview a segment, send now or later, unschedule, reach and recipients),
helpcentre.authoring/reading/feedback/categories (articles, versions, publish, archive, the
answers) and community.reports/mutes (the report queue, deciding a report, muting and lifting).
Posted forms are loaded with the API's own schemas; a refusal shows the page again with the
message and the refusal's status (the request's unit of work rolls back).
"""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, redirect, request, url_for
from werkzeug.datastructures import MultiDict

from community import mutes, reports
from community.models import REPORT_STATUSES
from community.schemas import CommunityMuteCreateSchema, ReportDecisionSchema
from console.csv_export import csv_response, rows
from console.forms import fields, status, utc
from console.web import ConsoleBlueprint, render, signed_in
from crowd.core.errors import DomainError
from helpcentre import authoring, categories, feedback, reading
from helpcentre.models import ARTICLE_AUDIENCES, ARTICLE_STATUSES
from helpcentre.schemas import (
    HelpArticleCreateSchema,
    HelpPublishSchema,
    HelpVersionCreateSchema,
)
from members.models import COUNTRIES, MEMBER_STATUSES
from members.service import list_catalogue
from mentoring.broadcasts import service as broadcasts_service
from mentoring.broadcasts.segments import PROGRAMMES
from mentoring.schemas.messages import (
    KINDS,
    STATUSES,
    BroadcastCreateSchema,
    BroadcastSendSchema,
    SegmentSchema,
)

blp = ConsoleBlueprint("console_comms", __name__, url_prefix="/console/programmes")

PAGE_SIZE = 25
LEVELS = range(0, 6)
# The segment's list fields: ticked boxes or a multiple select, and free text split at commas.
SEGMENT_CHOICES = ("levels", "skills", "countries", "programmes", "statuses")
SEGMENT_TEXTS = ("cities", "postcode_prefixes")
RECIPIENT_HEADER = ("member_id", "display_name", "delivered_at", "read_at", "email", "push")


@blp.context_processor
def _links() -> dict:
    def page_exists(endpoint: str) -> bool:
        """Whether another area's page is there to link to (the hub, a member's page)."""
        return endpoint in current_app.view_functions

    return {"page_exists": page_exists}


def _me():
    return signed_in().principal


def _flat(messages, prefix: str = "") -> list[str]:
    """marshmallow's nested messages as `field.sub: text` lines."""
    if isinstance(messages, dict):
        lines = []
        for key, value in messages.items():
            # A Dict field's errors sit under "value" (of the key): not a field of its own.
            step = "" if isinstance(key, int) or key == "value" else f"{key}."
            lines += _flat(value, prefix + step)
        return lines
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix.rstrip('.')}: {' '.join(messages)}"]
    if isinstance(messages, list):
        return [line for m in messages for line in _flat(m, prefix)]
    return [f"{prefix.rstrip('.')}: {messages}"]


def _problem(error: ma.ValidationError | DomainError) -> str:
    """One line for the page (nested fields such as translations.en.title spelt out)."""
    if isinstance(error, DomainError):
        return str(error.detail)
    return "; ".join(_flat(error.normalized_messages()))


def _cursor_urls(endpoint: str, page: dict, **values) -> dict:
    kept = {k: v for k, v in request.args.to_dict(flat=False).items() if k != "cursor"}
    following = page["page"].get("next_cursor")
    return {
        "next_url": url_for(endpoint, **values, **kept, cursor=following) if following else None,
        "first_url": url_for(endpoint, **values, **kept) if request.args.get("cursor") else None,
    }


def _numbers(values: dict, *names: str) -> dict:
    """Whole numbers typed into a form as numbers (the API's id fields are strict)."""
    for name in names:
        if name in values and values[name].isdigit():
            values[name] = int(values[name])
    return values


def _choice(value: str, allowed) -> str | None:
    return value if value in allowed else None


# --- broadcasts: the list ----------------------------------------------------------------------


@blp.page("/broadcasts")
def broadcasts():
    """Broadcasts, newest first, with their reach: delivered, read and per channel."""
    chosen = {
        "status": _choice(request.args.get("status", ""), STATUSES),
        "kind": _choice(request.args.get("kind", ""), KINDS),
    }
    page = broadcasts_service.list_broadcasts(
        actor=_me(), limit=PAGE_SIZE, cursor=request.args.get("cursor") or None, **chosen
    )
    return render(
        "comms/broadcasts.html",
        page=page,
        chosen=chosen,
        statuses=STATUSES,
        kinds=KINDS,
        **_cursor_urls(".broadcasts", page),
    )


# --- broadcasts: composing ---------------------------------------------------------------------


def _segment_input(source: MultiDict) -> dict:
    """The segment as the API's SegmentSchema reads it (empty keys left out)."""
    raw: dict[str, list[str]] = {}
    for name in SEGMENT_CHOICES:
        values = [v.strip() for v in source.getlist(name) if v.strip()]
        if values:
            raw[name] = values
    for name in SEGMENT_TEXTS:
        values = [v.strip() for v in (source.get(name) or "").split(",") if v.strip()]
        if values:
            raw[name] = values
    return raw


def _compose_page(*, status_code: int = 200, error: str | None = None, form=None):
    return render(
        "comms/compose.html",
        status=status_code,
        error=error,
        form=form or MultiDict(),
        kinds=KINDS,
        levels=LEVELS,
        countries=COUNTRIES,
        programmes=PROGRAMMES,
        member_statuses=MEMBER_STATUSES,
        catalogue=list_catalogue(),
    )


@blp.page("/broadcasts/new")
def compose():
    """Write a broadcast in German and English and choose its segment (with a live count)."""
    return _compose_page()


@blp.page("/broadcasts/segment-preview")
def segment_preview():
    """The segment's count now and the first members, as a fragment (htmx asks on every change
    of the segment). Answered 200 with the refusal inside, so htmx swaps the message in."""
    try:
        segment = SegmentSchema().load(_segment_input(request.args))
        found = broadcasts_service.preview_segment(actor=_me(), **segment)
    except (ma.ValidationError, DomainError) as refused:
        return render("comms/_segment_preview.html", error=_problem(refused))
    return render("comms/_segment_preview.html", found=found)


def _send_at(form) -> dict:
    """The send's body: nothing (now) or the chosen time (later), checked by the API's schema."""
    if form.get("when") != "later":
        return {}
    return BroadcastSendSchema().load({"send_at": utc(form.get("send_at") or "") or None})


@blp.page("/broadcasts/new", methods=("POST",), endpoint="create")
def create():
    """Create the draft and, as chosen, send it now, schedule it, or keep it as a draft."""
    form = request.form
    texts = {locale: fields(f"title_{locale}", f"body_{locale}") for locale in ("de", "en")}
    data = {
        "kind": form.get("kind") or "",
        "title": texts["de"].get("title_de", ""),
        "body": texts["de"].get("body_de", ""),
        "translations": {
            locale: {
                "title": text.get(f"title_{locale}", ""),
                "body": text.get(f"body_{locale}", ""),
            }
            for locale, text in texts.items()
        },
        "segment": _segment_input(form),
    }
    try:
        loaded = BroadcastCreateSchema().load(data)
        send = _send_at(form)
        made = broadcasts_service.create_broadcast(actor=_me(), **loaded)
        if form.get("when") in ("now", "later"):
            broadcasts_service.send_broadcast(actor=_me(), broadcast_id=made["id"], **send)
    except (ma.ValidationError, DomainError) as refused:
        return _compose_page(status_code=status(refused), error=_problem(refused), form=form)
    return redirect(url_for(".broadcast", broadcast_id=made["id"], done=1), 303)


# --- broadcasts: one ---------------------------------------------------------------------------


def _read_filter() -> bool | None:
    return {"true": True, "false": False}.get(request.args.get("read", ""))


def _broadcast_page(broadcast_id: int, *, status_code: int = 200, error: str | None = None):
    broadcast = broadcasts_service.get_broadcast(actor=_me(), broadcast_id=broadcast_id)
    page = broadcasts_service.list_recipients(
        actor=_me(),
        broadcast_id=broadcast_id,
        read=_read_filter(),
        limit=PAGE_SIZE,
        cursor=request.args.get("cursor") or None,
    )
    return render(
        "comms/broadcast.html",
        status=status_code,
        broadcast=broadcast,
        recipients=page,
        error=error,
        done=request.args.get("done"),
        read=request.args.get("read", ""),
        **_cursor_urls(".broadcast", page, broadcast_id=broadcast_id),
    )


@blp.page("/broadcasts/<int:broadcast_id>")
def broadcast(broadcast_id):
    """A broadcast's texts, segment, reach per channel and recipients."""
    return _broadcast_page(broadcast_id)


@blp.page("/broadcasts/<int:broadcast_id>/send", methods=("POST",))
def send(broadcast_id):
    """Send a draft or scheduled broadcast now, or schedule a draft (when=later, send_at)."""
    try:
        body = _send_at(request.form)
        broadcasts_service.send_broadcast(actor=_me(), broadcast_id=broadcast_id, **body)
    except (ma.ValidationError, DomainError) as refused:
        if status(refused) == 404:
            raise
        return _broadcast_page(broadcast_id, status_code=status(refused), error=_problem(refused))
    return redirect(url_for(".broadcast", broadcast_id=broadcast_id, done=1), 303)


@blp.page("/broadcasts/<int:broadcast_id>/unschedule", methods=("POST",))
def unschedule(broadcast_id):
    """A scheduled broadcast back to draft (409 unless scheduled)."""
    try:
        broadcasts_service.unschedule_broadcast(actor=_me(), broadcast_id=broadcast_id)
    except DomainError as refused:
        if refused.status == 404:
            raise
        return _broadcast_page(broadcast_id, status_code=refused.status, error=_problem(refused))
    return redirect(url_for(".broadcast", broadcast_id=broadcast_id, done=1), 303)


@blp.page("/broadcasts/<int:broadcast_id>/recipients.csv")
def recipients_csv(broadcast_id):
    """Every recipient (with ?read=true/false as on the page), streamed."""
    statement = broadcasts_service.recipients_export(
        actor=_me(), broadcast_id=broadcast_id, read=_read_filter()
    )
    return csv_response(f"broadcast-{broadcast_id}-recipients", RECIPIENT_HEADER, rows(statement))


# --- help-centre articles ----------------------------------------------------------------------


def _categories() -> list:
    return categories.list_categories(actor=_me())["items"]


@blp.page("/articles")
def articles():
    """Every article (staff see all), newest first; by status and topic (category)."""
    category = request.args.get("category_id", "")
    chosen = {
        "status": _choice(request.args.get("status", ""), ARTICLE_STATUSES),
        "category_id": int(category) if category.isdigit() else None,
    }
    page = reading.list_articles(
        actor=_me(), limit=PAGE_SIZE, cursor=request.args.get("cursor") or None, **chosen
    )
    topics = _categories()
    return render(
        "comms/articles.html",
        page=page,
        chosen=chosen,
        statuses=ARTICLE_STATUSES,
        topics=topics,
        topic_names={c.id: c.name for c in topics},
        **_cursor_urls(".articles", page),
    )


def _new_article_page(*, status_code: int = 200, error: str | None = None, form=None):
    return render(
        "comms/article_new.html",
        status=status_code,
        error=error,
        form=form or MultiDict(),
        topics=_categories(),
        audiences=ARTICLE_AUDIENCES,
    )


@blp.page("/articles/new")
def new_article():
    return _new_article_page()


@blp.page("/articles/new", methods=("POST",), endpoint="create_article")
def create_article():
    """A draft article with its first version (POST /help/articles)."""
    try:
        data = HelpArticleCreateSchema().load(
            _numbers(
                fields("slug", "category_id", "audience", "title", "summary", "body"),
                "category_id",
            )
        )
        made = authoring.create_article(actor=_me(), **data)
    except (ma.ValidationError, DomainError) as refused:
        return _new_article_page(
            status_code=status(refused), error=_problem(refused), form=request.form
        )
    return redirect(url_for(".article", article_id=made["id"], done=1), 303)


def _article_page(article_id: int, *, status_code: int = 200, error: str | None = None):
    article = reading.get_article(actor=_me(), ref=str(article_id))
    versions = authoring.list_versions(actor=_me(), ref=article_id, limit=PAGE_SIZE)
    answers = feedback.list_feedback(actor=_me(), ref=article_id, limit=PAGE_SIZE)
    return render(
        "comms/article.html",
        status=status_code,
        article=article,
        versions=versions["items"],
        answers=answers,
        topic_names={c.id: c.name for c in _categories()},
        error=error,
        done=request.args.get("done"),
    )


@blp.page("/articles/<int:article_id>")
def article(article_id):
    """An article: its current text, versions, the feedback summary; edit, publish, archive."""
    return _article_page(article_id)


def _article_action(article_id: int, act):
    try:
        act()
    except (ma.ValidationError, DomainError) as refused:
        if status(refused) == 404:
            raise
        return _article_page(article_id, status_code=status(refused), error=_problem(refused))
    return redirect(url_for(".article", article_id=article_id, done=1), 303)


@blp.page("/articles/<int:article_id>/versions", methods=("POST",))
def add_version(article_id):
    """Edit = a new version (readers keep the published one until it is published)."""

    def act():
        data = HelpVersionCreateSchema().load(fields("title", "summary", "body"))
        authoring.add_version(actor=_me(), ref=article_id, **data)

    return _article_action(article_id, act)


@blp.page("/articles/<int:article_id>/publish", methods=("POST",))
def publish(article_id):
    """Publish a version (default: the latest)."""

    def act():
        data = HelpPublishSchema().load(_numbers(fields("version_id"), "version_id"))
        authoring.publish(actor=_me(), ref=article_id, **data)

    return _article_action(article_id, act)


@blp.page("/articles/<int:article_id>/archive", methods=("POST",))
def archive(article_id):
    """Withdraw the article from readers (archived already: 409)."""
    return _article_action(article_id, lambda: authoring.archive(actor=_me(), ref=article_id))


# --- topic-group moderation --------------------------------------------------------------------


def _moderation_page(*, status_code: int = 200, error: str | None = None):
    chosen = _choice(request.args.get("status", "open"), REPORT_STATUSES)
    queue = reports.list_reports(
        actor=_me(), status=chosen, limit=PAGE_SIZE, cursor=request.args.get("cursor") or None
    )
    muted = mutes.list_mutes(actor=_me(), active=True, limit=PAGE_SIZE)
    return render(
        "comms/moderation.html",
        status=status_code,
        queue=queue,
        mutes=muted,
        chosen=chosen,
        statuses=REPORT_STATUSES,
        error=error,
        done=request.args.get("done"),
        **_cursor_urls(".moderation", queue),
    )


@blp.page("/moderation")
def moderation():
    """The reported posts (open ones first: oldest first) and the mutes in force."""
    return _moderation_page()


def _moderation_action(act, done: str):
    try:
        act()
    except (ma.ValidationError, DomainError) as refused:
        if status(refused) == 404:
            raise
        return _moderation_page(status_code=status(refused), error=_problem(refused))
    return redirect(url_for(".moderation", done=done), 303)


@blp.page("/moderation/reports/<int:report_id>/decide", methods=("POST",))
def decide(report_id):
    """Hide the post (uphold the report) or dismiss it — with every open report of the post."""

    def act():
        data = ReportDecisionSchema().load(fields("decision"))
        reports.decide_report(actor=_me(), report_id=report_id, **data)

    return _moderation_action(act, request.form.get("decision") or "decided")


@blp.page("/moderation/members/<int:member_id>/mute", methods=("POST",))
def mute(member_id):
    """Mute the author in every topic group, until a time or until lifted."""

    def act():
        values = fields("reason", "until")
        if "until" in values:
            values["until"] = utc(values["until"])
        data = CommunityMuteCreateSchema().load(values)
        mutes.mute_member(actor=_me(), member_id=member_id, **data)

    return _moderation_action(act, "muted")


@blp.page("/moderation/mutes/<int:mute_id>/lift", methods=("POST",))
def lift(mute_id):
    """Lift a mute in force."""
    return _moderation_action(lambda: mutes.lift_mute(actor=_me(), mute_id=mute_id), "lifted")
