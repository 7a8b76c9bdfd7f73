"""flask-smorest Api and Blueprint with problem+json errors, auth and idempotency built in."""

from __future__ import annotations

import http
from functools import wraps

import marshmallow as ma
from flask import current_app
from flask_smorest import Api, Blueprint
from flask_smorest.spec import prepare_response
from flask_smorest.utils import resolve_schema_instance

from crowd.core.auth import api_key_scope, require_principal
from crowd.core.db import is_retry
from crowd.core.dumping import with_compiled_dump
from crowd.core.idempotency import WITHHELD_HEADER, run_idempotent
from crowd.core.jsonio import JSONBodyParser
from crowd.core.security import limiter, rate_limit_key

PROBLEM_JSON = "application/problem+json"

ROLE_DESCRIPTIONS = {
    "customer": "a customer",
    "member": "a crowd member",
    "community_manager": "a community manager",
    "admin": "an admin",
}


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as every error of this API is rendered."""

    type = ma.fields.String(
        metadata={"description": "URI identifying the problem type (see x-problem-types)"}
    )
    title = ma.fields.String(metadata={"description": "Short summary of the problem type"})
    status = ma.fields.Integer(metadata={"description": "HTTP status code"})
    detail = ma.fields.String(metadata={"description": "What went wrong this time"})
    instance = ma.fields.String(metadata={"description": "The request path"})
    errors = ma.fields.Dict(
        metadata={"description": "Validation errors by location and field: {json: {field: [...]}}"}
    )
    state = ma.fields.String(metadata={"description": "Current state, on illegal transitions"})
    request_id = ma.fields.String(
        metadata={"description": "On 5xx: the X-Request-Id to quote when reporting the error"}
    )
    # RFC 9457 extension members some errors carry; each is documented so clients can rely on it.
    reason = ma.fields.String(metadata={"description": "Why a request was refused (a code)"})
    reasons = ma.fields.List(
        ma.fields.String(), metadata={"description": "Every unmet condition (eligibility)"}
    )
    run_id = ma.fields.Integer(metadata={"description": "The run that exists already"})
    scope = ma.fields.String(
        metadata={"description": "The API-key scope the operation needs (type scope-missing)"}
    )


class CrowdApi(Api):
    """Api whose documented error responses are application/problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        # crowd.core.errors registers the handlers; flask-smorest's own JSON shape is not used.
        pass

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                prepare_response(response, self.spec, PROBLEM_JSON)
            else:
                prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def _add_doc(func, **doc):
    """Merge OpenAPI fields into a view's doc the way flask-smorest's Blueprint.doc does."""
    return Blueprint.doc(**doc)(func)


def _add_error_responses(func, *statuses: int):
    apidoc = func.__dict__.setdefault("_apidoc", {})
    responses = apidoc.setdefault("response", {}).setdefault("responses", {})
    for status in statuses:
        responses.setdefault(status, [http.HTTPStatus(status).name])
    return func


def _document_api_key_scope(view_func, method: str, rule: str) -> None:

    manual = view_func._apidoc["manual_doc"]
    scope = api_key_scope(method.upper(), rule)
    if scope is None:
        note = "**API keys:** refused (403 session-required); use a session token."
    else:
        manual["x-api-key-scope"] = scope
        note = f"**API keys:** need the scope `{scope}` (else 403 scope-missing)."
    manual["description"] = f"{manual.get('description', '')}\n\n{note}".strip()


class CrowdBlueprint(Blueprint):
    """A Blueprint whose views declare their roles and idempotency in code and in the docs."""

    # Bodies are read by crowd.core.jsonio: values nothing downstream can take are a 422.
    ARGUMENTS_PARSER = JSONBodyParser()

    def add_url_rule(self, rule, endpoint=None, view_func=None, **options):
        """Register the view; an authenticated one's docs say whether API keys may call it."""
        apidoc = getattr(view_func, "_apidoc", {}).get("manual_doc", {})
        methods = options.get("methods") or ()
        if "x-roles" in apidoc and len(methods) == 1:
            _document_api_key_scope(view_func, methods[0], f"{self.url_prefix or ''}{rule}")
        return super().add_url_rule(rule, endpoint, view_func, **options)

    def response(self, status_code, schema=None, **kwargs):
        """flask-smorest's response, dumping with the schema compiled (crowd.core.dumping);
        the copy has the schema's class and options, so the docs are the same."""
        schema = resolve_schema_instance(schema)
        if isinstance(schema, ma.Schema):
            schema = with_compiled_dump(schema)
        return super().response(status_code, schema, **kwargs)

    def auth(self, *roles: str):
        """Require a bearer token (or API key) whose user has one of `roles` (none: any user)."""

        def decorator(func):
            @wraps(func)
            def wrapper(*args, **kwargs):
                require_principal(roles)
                return func(*args, **kwargs)

            who = ", ".join(ROLE_DESCRIPTIONS[r] for r in roles) if roles else "any signed-in user"
            wrapper = _add_doc(
                wrapper,
                security=[{"bearerAuth": []}],
                **{"x-roles": list(roles) or ["any"]},
            )
            wrapper._apidoc["manual_doc"]["description"] = (
                (wrapper._apidoc["manual_doc"].get("description") or func.__doc__ or "").strip()
                + f"\n\n**Who may call:** {who}."
            ).strip()
            return _add_error_responses(wrapper, 401, 403)

        return decorator

    def idempotent(self, func=None, *, secrets: tuple[str, ...] = ()):
        """Honour an Idempotency-Key header: same key and body replay, different body → 422.

        `secrets` names response fields shown once (a new key's token): they are not stored,
        and a replay answers with them null (crowd.core.idempotency).
        """
        if func is None:
            return lambda view: self.idempotent(view, secrets=secrets)

        @wraps(func)
        def wrapper(*args, **kwargs):
            return run_idempotent(lambda: func(*args, **kwargs), secrets=secrets)

        description = (
            "Retry-safe key: the same key and body replay the first response; the same key "
            "with another body is refused with 422."
        )
        doc = {}
        if secrets:
            fields = ", ".join(f"`{name}`" for name in secrets)
            description += (
                f" A replay answers with {fields} null: the secret is shown once and never "
                f"stored (the replay's `{WITHHELD_HEADER}` header names the fields)."
            )
            doc["x-idempotency-withheld"] = list(secrets)
        wrapper = _add_doc(
            wrapper,
            parameters=[
                {
                    "in": "header",
                    "name": "Idempotency-Key",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 255},
                    "description": description,
                }
            ],
            **doc,
        )
        return _add_error_responses(wrapper, 409, 422)

    def rate_limited(self, setting: str, *, shared: str | None = None):
        """Limit calls to the rate in Settings.<setting>; past it, 429 with Retry-After.

        Counted per signed-in user when placed below `auth` (else per client address), per
        endpoint, or across every endpoint limited with the same `shared` name.
        """

        def rate() -> str:
            return getattr(current_app.config["CROWD_SETTINGS"], setting)

        def decorator(func):
            # A request run again after a lost race in the database was counted on its first run.
            if shared:
                limit = limiter.shared_limit(
                    rate, scope=shared, key_func=rate_limit_key, exempt_when=is_retry
                )
            else:
                limit = limiter.limit(rate, key_func=rate_limit_key, exempt_when=is_retry)
            return _add_error_responses(limit(func), 429)

        return decorator

    def errors(self, *statuses: int):
        """Document the error statuses a view can answer with (as problem+json)."""

        def decorator(func):
            return _add_error_responses(func, *statuses)

        return decorator
