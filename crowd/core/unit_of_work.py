"""A request is one unit of work: committed once at the edge, or rolled back (crowd.core.db
says how a lost race runs it again)."""

from __future__ import annotations

from flask import request
from sqlalchemy.exc import IntegrityError, OperationalError

from crowd.core import background
from crowd.core.db import SAFE_METHODS, RetryOnContention, commit, db
from crowd.core.errors import (
    DomainError,
    handle_domain_error,
    handle_integrity_error,
    handle_operational_error,
)
from crowd.core.idempotency import REQUEST_MARKER, replay_after_race


def install_unit_of_work(app) -> None:
    """A request is one unit of work: committed once after a successful write, else rolled back.

    Views and services only stage changes; this edge commits them together with the
    idempotency record of the response, so a creation and its replay record land together.
    """

    @app.after_request
    def _finish_unit_of_work(response):
        if request.method in SAFE_METHODS or response.status_code >= 400:
            db.session.rollback()
            background.discard_uncommitted()
            return response
        try:
            commit()
        except IntegrityError as error:
            background.discard_uncommitted()
            if REQUEST_MARKER in request.environ:
                db.session.rollback()
                # A concurrent request with the same key won: answer as it did.
                try:
                    return replay_after_race()
                except DomainError as conflict:
                    return handle_domain_error(conflict)
            return handle_integrity_error(error)
        except OperationalError as error:
            background.discard_uncommitted()
            return handle_operational_error(error)
        except DomainError as refused:
            # Refused while flushing at the commit (a flush hook: e.g. a credential change
            # whose cached tokens cannot be invalidated): nothing is written.
            db.session.rollback()
            background.discard_uncommitted()
            return handle_domain_error(refused)
        return response

    # Outermost, so that a run again passes through everything (proxy headers included).
    app.wsgi_app = RetryOnContention(app.wsgi_app, app.config.get("MAX_CONTENT_LENGTH"))
