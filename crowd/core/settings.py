"""The settings in force: what start-up read and validated, plus what admins changed since.

Start-up (crowd._load_config) validates every group and puts each value into the app config
under its variable's name. `current(Group)` is the one accessor rules read through: the app
config, then the admins' overrides of the group's adjustable settings (the `setting_overrides`
table, read once per transaction, so a change is in force on the next request in every worker
process). `change` is the admins' write, validated by the same typed declarations.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from flask import current_app
from sqlalchemy import JSON, ForeignKey, String, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Mapped, mapped_column

from crowd.config import ConfigError, SettingsGroup, expected_form
from crowd.core.db import Base, BigId, UTCDateTime, db, utcnow
from crowd.core.errors import field_error
from crowd.core.i18n import _
from crowd.core.locking import ROW_LOCK

log = logging.getLogger(__name__)

G = TypeVar("G", bound=SettingsGroup)

EXTENSION = "crowd.settings"
_CACHE = "crowd.setting_overrides"
MASK = "********"


class SettingOverride(Base):
    """An admin's value for an adjustable setting, in force instead of the configured one."""

    __tablename__ = "setting_overrides"

    # The environment variable's name, e.g. PAYOUT_MINIMUM_AMOUNT.
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=False)
    changed_by_user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


@dataclass(frozen=True)
class Declared:
    """One setting as declared: its group, field and variable."""

    group: type[SettingsGroup]
    field: str
    variable: str

    @property
    def info(self):
        return self.group.model_fields[self.field]

    @property
    def adjustable(self) -> bool:
        return self.field in self.group.ADJUSTABLE

    @property
    def secret(self) -> bool:
        return self.field in self.group.SECRET

    @property
    def form(self) -> str:
        return expected_form(self.group, self.field)

    @property
    def shown_default(self) -> str:
        extra = self.info.json_schema_extra
        if isinstance(extra, dict) and extra.get("shown"):
            return str(extra["shown"])
        return _display(self.info.default)


@dataclass(frozen=True)
class Registry:
    """What start-up read: the groups, and where each variable's value came from."""

    groups: tuple[type[SettingsGroup], ...]
    sources: dict[str, str]

    def declared(self) -> list[Declared]:
        return [
            Declared(group, field, variable)
            for group in self.groups
            for field, variable in group.env_names().items()
        ]

    def adjustable(self) -> dict[str, Declared]:
        return {d.variable: d for d in self.declared() if d.adjustable}


def declared_names(groups) -> list[str]:
    """Every variable of these groups; a name declared twice stops start-up."""
    names = [variable for group in groups for variable in group.env_names().values()]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise RuntimeError(f"settings declared twice: {', '.join(twice)}")
    return names


def registry() -> Registry:
    return current_app.extensions[EXTENSION]


# --- reading --------------------------------------------------------------------------------


def overrides() -> dict[str, Any]:
    """The admins' values {variable: value}, read once per transaction of the session."""
    session = db.session()  # the current Session itself (the scoped proxy has no transactions)
    transaction = session.get_transaction()
    cached = session.info.get(_CACHE)
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cached[1]
    values = dict(session.execute(select(SettingOverride.key, SettingOverride.value)).all())
    session.info[_CACHE] = (session.get_transaction(), values)
    return values


def _forget_overrides() -> None:
    db.session.info.pop(_CACHE, None)


def configured(group: type[G]) -> dict[str, Any]:
    """{field: value} of the group as start-up set it (or a test since), without overrides."""
    config = current_app.config
    return {f: config[var] for f, var in group.env_names().items() if var in config}


def current(group: type[G]) -> G:
    """The group's settings in force now: configured values, then the admins' overrides."""
    values = configured(group)
    if not group.ADJUSTABLE:
        return _validated(group, values)
    stored = overrides()
    names = group.env_names()
    adjusted = {f: stored[names[f]] for f in group.ADJUSTABLE if names[f] in stored}
    try:
        return _validated(group, {**values, **adjusted})
    except ConfigError as error:
        # A value stored under an older release's rules: the configured one serves meanwhile.
        log.error("ignoring the stored override of a setting: %s", error)
        return _validated(group, values)


# Validated groups by their input values. Validating a pydantic-settings group costs ~0.5 ms of
# CPU, and rules read their group several times per request and per task (bench/load.py's
# profile: 3-4 % of a posted job's CPU, 8 % of its background work). The groups are frozen, so
# one instance serves every reader with the same values; a changed value is a new key.
_VALIDATED: dict[tuple[type, str], SettingsGroup] = {}
_VALIDATED_MAX = 512


def _validated(group: type[G], values: dict[str, Any]) -> G:
    key = (group, json.dumps(values, sort_keys=True, default=repr))
    found = _VALIDATED.get(key)
    if found is None:
        found = group.validated(values)  # ConfigError is raised, not kept
        if len(_VALIDATED) >= _VALIDATED_MAX:
            _VALIDATED.clear()
        _VALIDATED[key] = found
    return found


# --- the admins' view and change ------------------------------------------------------------


def _entry(declared: Declared, stored: dict[str, Any]) -> dict:
    group_now = current(declared.group)
    row = (
        db.session.get(SettingOverride, declared.variable) if declared.variable in stored else None
    )
    return {
        "key": declared.variable,
        "value": _plain(getattr(group_now, declared.field)),
        "configured": _plain(configured(declared.group).get(declared.field)),
        "default": declared.shown_default,
        "source": "admin" if row is not None else registry().sources.get(declared.variable),
        "description": declared.info.description or "",
        "form": declared.form,
        "changed_at": row.changed_at if row is not None else None,
        "changed_by": row.changed_by_user_id if row is not None else None,
    }


def adjustable_settings() -> list[dict]:
    """Every setting admins may change, with its value in force and where it comes from."""
    stored = overrides()
    return [_entry(declared, stored) for declared in registry().adjustable().values()]


def change(*, actor_user_id: int, changes: dict[str, Any]) -> dict[str, dict]:
    """Set (or, with None, remove) admins' values; all validated first, then written.

    Returns {variable: {"old": value in force before, "new": value in force after}}.
    """
    adjustable = registry().adjustable()
    for variable in changes:
        if variable not in adjustable:
            raise field_error(variable, _("not a setting admins can change"))
    before = {
        v: _plain(getattr(current(adjustable[v].group), adjustable[v].field)) for v in changes
    }
    by_group: dict[type[SettingsGroup], dict[str, Any]] = {}
    for variable, value in changes.items():
        declared = adjustable[variable]
        values = by_group.setdefault(declared.group, {})
        values[declared.field] = (
            configured(declared.group).get(declared.field) if value is None else value
        )
    for group, values in by_group.items():
        in_force = current(group).model_dump()
        try:
            group.validated({**in_force, **values})
        except ConfigError as error:
            raise field_error(error.variable or group.__name__, str(error)) from None
    now = utcnow()
    for variable in sorted(changes):
        row = db.session.get(SettingOverride, variable, with_for_update=ROW_LOCK)
        value = changes[variable]
        if value is None:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(
                SettingOverride(
                    key=variable, value=value, changed_by_user_id=actor_user_id, changed_at=now
                )
            )
        else:
            row.value, row.changed_by_user_id, row.changed_at = value, actor_user_id, now
    db.session.flush()
    _forget_overrides()
    return {
        v: {
            "old": before[v],
            "new": _plain(getattr(current(adjustable[v].group), adjustable[v].field)),
        }
        for v in changes
    }


# --- printing (flask crowd settings) --------------------------------------------------------


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _display(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, tuple | list):
        return ",".join(map(str, value)) if value else "empty"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def mask(declared: Declared, value: Any) -> str:
    """The value as it may be printed: secrets masked, passwords in URLs hidden."""
    if value is None or value == "":
        return _display(value)
    if declared.secret:
        return MASK
    if declared.variable == "DATABASE_URL":
        return make_url(value).render_as_string(hide_password=True)
    if declared.variable == "REDIS_URL":
        parts = urlsplit(value)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
    return _display(value)


def effective(*, with_overrides: bool = True) -> list[tuple[str, str, str]]:
    """(variable, printable value, source) of every setting, in declaration order."""
    reg = registry()
    stored = overrides() if with_overrides else {}
    core = current_app.config["CROWD_SETTINGS"]
    rows = []
    for declared in reg.declared():
        if declared.group is type(core):
            value = getattr(core, declared.field)
        elif with_overrides:
            value = getattr(current(declared.group), declared.field)
        else:
            value = configured(declared.group).get(declared.field)
        source = reg.sources.get(declared.variable, "default")
        if declared.adjustable and declared.variable in stored:
            source = "admin"
        rows.append((declared.variable, mask(declared, value), source))
    return rows


def markdown_table(groups) -> str:
    """The README's settings table, generated from the declarations."""
    lines = ["| setting | default | admins | meaning |", "| --- | --- | --- | --- |"]
    for group in groups:
        for field, variable in group.env_names().items():
            declared = Declared(group, field, variable)
            meaning = declared.info.description or ""
            if group.model_fields[field].annotation is int or declared.adjustable:
                meaning = f"{meaning} ({declared.form})" if declared.form != "text" else meaning
            admins = "yes" if declared.adjustable else ""
            extra = declared.info.json_schema_extra
            shown = extra.get("shown") if isinstance(extra, dict) else None
            plain = declared.info.default in (None, ())
            default = shown or (declared.shown_default if plain else f"`{declared.shown_default}`")
            lines.append(f"| `{variable}` | {default} | {admins} | {meaning} |")
    return "\n".join(lines) + "\n"
