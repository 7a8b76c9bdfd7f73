"""Settings for admins: the runtime-adjustable settings (crowd.core.settings, as GET
/api/v1/settings) with their values in force, defaults, meanings and forms; a change loaded with
the PATCH body's own schema and made by the same `change`, noted on the audit log with its old
and new values as the API notes it; and the trail of changes made through either."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import redirect, request, url_for

from accounts.service import get_user
from console.forms import problem, status
from console.web import ConsoleBlueprint, render, signed_in
from crowd.core import audit, settings_api
from crowd.core import settings as settings_service
from crowd.core.errors import DomainError, NotFound
from crowd.core.i18n import _

blp = ConsoleBlueprint("console_settings", __name__, url_prefix="/console/settings")

ADMIN = ("admin",)
TRAIL = 25
# The audit log's endpoints of a setting change: the API's PATCH and this page's form.
CHANGE_ENDPOINTS = (settings_api.CHANGE_ENDPOINT, "console_settings.change")


def _typed(text: str) -> Any:
    """The form's text as the JSON value it spells (4, true, {"EUR": 2000}), else as text: the
    schema then checks it in the setting's declared type."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _trail() -> list[dict]:
    """The newest setting changes: who, when, and each setting's old and new value."""
    entries = audit.list_entries(
        actor=signed_in().principal, endpoints=CHANGE_ENDPOINTS, limit=TRAIL
    )["items"]
    names: dict[int, str] = {}
    trail = []
    for entry in entries:
        if entry.actor_user_id not in names:
            try:
                names[entry.actor_user_id] = get_user(entry.actor_user_id).display_name
            except NotFound:
                names[entry.actor_user_id] = f"#{entry.actor_user_id}"
        for key, change in sorted((entry.changes or {}).items()):
            trail.append(
                {
                    "entry": entry,
                    "who": names[entry.actor_user_id],
                    "via": "console" if entry.endpoint.startswith("console") else "API",
                    "key": key,
                    "old": change.get("old"),
                    "new": change.get("new"),
                }
            )
    return trail


def _page(*, status: int = 200, **extra):
    return render(
        "settings/index.html",
        status=status,
        settings=settings_service.adjustable_settings(),
        trail=_trail(),
        shown=lambda value: (
            json.dumps(value, ensure_ascii=False)
            if isinstance(value, dict | list | bool) or value is None
            else str(value)
        ),
        **extra,
    )


@blp.page("/", roles=ADMIN)
def index():
    return _page(done=request.args.get("done"))


@blp.page("/", methods=("POST",), roles=ADMIN, endpoint="change")
def change():
    """Set one setting (or, with "back to configured", remove the admins' value)."""
    key = (request.form.get("key") or "").strip()
    adjustable = settings_service.registry().adjustable()
    if key not in adjustable:
        return _page(status=422, error_key=key, error=_("{key}: not a setting admins can change",
                                                        key=key or "?"))  # fmt: skip
    value = None if request.form.get("reset") else _typed((request.form.get("value") or "").strip())
    try:
        changes = settings_api.change_schema(adjustable)().load({key: value})
        done = settings_service.change(actor_user_id=signed_in().user.id, changes=changes)
    except (ma.ValidationError, DomainError) as refused:
        return _page(
            status=status(refused),
            error_key=key,
            error=problem(refused),
            typed=request.form.get("value", ""),
        )
    audit.note_changes(done)
    return redirect(url_for(".index", done=key) + f"#setting-{key}", 303)
