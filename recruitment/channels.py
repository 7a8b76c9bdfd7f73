"""Recruitment channels: the events, partners and campaigns applicants name by code.

Staff create, list and change them. A channel's kind and code are fixed once created (they are
printed on flyers and recorded on applications); codes are unique case-insensitively (stored
upper case). Partners say what kind of partner they are (trade school, repair café …); only
event channels may name a programme event. An inactive channel's code is refused at sign-up.
"""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.errors import NotFound, field_error
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from mentoring.models import Event
from recruitment.codes import require_staff
from recruitment.errors import ChannelCodeTaken
from recruitment.models import RecruitmentChannel


def _check_kind_fields(kind: str, partner_type, event_id) -> None:
    if kind == "partner" and partner_type is None:
        raise field_error("partner_type", _("required for partners"))
    if kind != "partner" and partner_type is not None:
        raise field_error("partner_type", _("only partners have a partner type"))
    if kind != "event" and event_id is not None:
        raise field_error("event_id", _("only event channels name an event"))
    if event_id is not None and db.session.get(Event, event_id) is None:
        raise field_error("event_id", _("no such event"))


def create_channel(
    *,
    actor: Principal,
    kind: str,
    code: str,
    name: str,
    partner_type: str | None = None,
    event_id: int | None = None,
    city: str | None = None,
    country: str | None = None,
    active: bool = True,
) -> RecruitmentChannel:
    """A new channel; 409 naming `code` when the code is taken."""
    require_staff(actor)
    _check_kind_fields(kind, partner_type, event_id)
    code = code.upper()
    if db.session.scalar(select(RecruitmentChannel.id).where(RecruitmentChannel.code == code)):
        raise ChannelCodeTaken(_("This code is taken."), errors={"json": {"code": ["taken"]}})
    channel = RecruitmentChannel(
        kind=kind,
        code=code,
        name=name,
        partner_type=partner_type,
        event_id=event_id,
        city=city,
        country=country,
        active=active,
        created_by_id=actor.user_id,
    )
    db.session.add(channel)
    db.session.flush()
    return channel


def _channel(channel_id: int, *, lock: bool = False) -> RecruitmentChannel:
    query = select(RecruitmentChannel).where(RecruitmentChannel.id == channel_id)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    channel = db.session.scalar(query)
    if channel is None:
        raise NotFound(_("No such recruitment channel."))
    return channel


def get_channel(*, actor: Principal, channel_id: int) -> RecruitmentChannel:
    require_staff(actor)
    return _channel(channel_id)


def update_channel(*, actor: Principal, channel_id: int, **changes) -> RecruitmentChannel:
    """Change a channel's name, partner type, event, place or whether it is active."""
    require_staff(actor)
    channel = _channel(channel_id, lock=True)
    partner_type = changes.get("partner_type", channel.partner_type)
    event_id = changes.get("event_id", channel.event_id)
    _check_kind_fields(channel.kind, partner_type, event_id)
    for name, value in changes.items():
        setattr(channel, name, value)
    db.session.flush()
    return channel


def list_channels(
    *,
    actor: Principal,
    kind: str | None = None,
    active: bool | None = None,
    country: str | None = None,
    limit=None,
    cursor=None,
) -> dict:
    """Channels filtered by kind, active and country, in id order."""
    require_staff(actor)
    query = select(RecruitmentChannel)
    if kind is not None:
        query = query.where(RecruitmentChannel.kind == kind)
    if active is not None:
        query = query.where(RecruitmentChannel.active.is_(active))
    if country is not None:
        query = query.where(RecruitmentChannel.country == country)
    return paginate(query, {"limit": limit, "cursor": cursor}, order=[RecruitmentChannel.id])
