"""GET and PATCH /api/v1/settings: the settings operations change without a release.

Staff read the adjustable settings with their values in force; admins change them. The request
body is built from the same typed declarations the environment is read with (each domain's
`config` module), so the API takes exactly what start-up takes; the change is audited with its
old and new values (crowd.core.audit) and is in force from the next transaction on.
"""

from __future__ import annotations

from typing import Annotated, Any

import marshmallow as ma
from pydantic import TypeAdapter, ValidationError

from crowd.core import audit
from crowd.core import settings as settings_service
from crowd.core.auth import current_principal
from crowd.core.i18n import _
from crowd.core.openapi import CrowdBlueprint
from crowd.core.settings import Declared

SOURCES = ("default", "environment", "admin")
# The audit log's endpoint of an admin's change through the API (the console has its own).
CHANGE_ENDPOINT = "settings.change_settings"


class SettingSchema(ma.Schema):
    """An adjustable setting: its value in force, the configured one, and where it comes from."""

    key = ma.fields.String(
        metadata={"description": "The environment variable, e.g. PAYOUT_MINIMUM_AMOUNT"}
    )
    value = ma.fields.Raw(metadata={"description": "The value in force"})
    configured = ma.fields.Raw(
        metadata={"description": "The value from the environment or the default (no override)"}
    )
    source = ma.fields.String(
        metadata={
            "description": "Where the value in force comes from: default, environment, or admin "
            "(changed through this API)",
            "enum": list(SOURCES),
        }
    )
    description = ma.fields.String(metadata={"description": "What the setting means"})
    form = ma.fields.String(metadata={"description": "The values it takes, in words"})
    changed_at = ma.fields.DateTime(
        allow_none=True, metadata={"description": "When an admin last set it (null: never)"}
    )
    changed_by = ma.fields.Integer(
        allow_none=True, metadata={"description": "The admin's user id (null: not changed)"}
    )


def _openapi(schema: dict) -> dict:
    """A pydantic JSON schema as OpenAPI 3.0 takes it (no titles; a dict with known keys as an
    object with those properties)."""
    if isinstance(schema, dict):
        schema = {k: _openapi(v) for k, v in schema.items() if k not in ("title", "default")}
        names = schema.pop("propertyNames", None)
        if names and "enum" in names:
            values = schema.pop("additionalProperties", {})
            schema["properties"] = {name: values for name in names["enum"]}
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_openapi(item) for item in schema]
    return schema


def _value_field(declared: Declared) -> ma.fields.Field:
    """The body field of one setting: its value in the declared type (strictly: no numbers in
    strings, no booleans for numbers), or null to go back to the configured value."""
    info = declared.info
    kind = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    adapter = TypeAdapter(kind)

    def validate(value: Any) -> None:
        if value is None:
            return
        try:
            adapter.validate_python(value, strict=True)
        except ValidationError:
            raise ma.ValidationError(
                _("must be {declared_form}", declared_form=declared.form)
            ) from None

    return ma.fields.Raw(
        allow_none=True,
        validate=validate,
        metadata={
            **_openapi(adapter.json_schema()),
            "nullable": True,
            "description": f"{info.description}; {declared.form}. null: back to the "
            "configured value",
        },
    )


_blueprint: CrowdBlueprint | None = None
_change_schema: type[ma.Schema] | None = None


def change_schema(adjustable: dict[str, Declared]) -> type[ma.Schema]:
    """The PATCH body's schema: each adjustable setting's value in its declared type, or null
    (the console's settings form is loaded with it too)."""
    global _change_schema
    if _change_schema is None:
        _change_schema = ma.Schema.from_dict(
            {variable: _value_field(declared) for variable, declared in adjustable.items()},
            name="SettingsChangeSchema",
        )
        _change_schema.__doc__ = (
            "Settings to change, by variable name; null puts a setting back to its configured "
            "value."
        )
    return _change_schema


def blueprint(adjustable: dict[str, Declared]) -> CrowdBlueprint:
    """The settings blueprint, its PATCH body built from the adjustable declarations (the same
    for every app: the declarations are classes)."""
    global _blueprint
    if _blueprint is None:
        _blueprint = _build(adjustable)
    return _blueprint


def _build(adjustable: dict[str, Declared]) -> CrowdBlueprint:
    patch_schema = change_schema(adjustable)
    blp = CrowdBlueprint(
        "settings",
        __name__,
        url_prefix="/api/v1",
        description="Settings operations change without a release",
    )

    @blp.route("/settings", methods=["GET"])
    @blp.auth("community_manager", "admin")
    @blp.response(200, SettingSchema(many=True))
    def list_settings():
        """The settings admins may change (payout minimum and interval, SLA targets, late
        cancellation window and fee, offer wave size and expiry), with the values in force."""
        return settings_service.adjustable_settings()

    @blp.route("/settings", methods=["PATCH"])
    @blp.auth("admin")
    @blp.arguments(patch_schema)
    @blp.response(200, SettingSchema(many=True))
    @blp.errors(422)
    def change_settings(changes):
        """Change settings, in force at once; validated like the environment (422 names the
        setting) and recorded in the audit log with the old and new values."""
        done = settings_service.change(actor_user_id=current_principal().user_id, changes=changes)
        audit.note_changes(done)
        return settings_service.adjustable_settings()

    return blp
