"""Helpers for the ticket tests: jobs with two parties, tickets opened and moved via the API."""

from __future__ import annotations

from sqlalchemy import select

from crowd.extensions import db
from support.models import Ticket, TicketEvent, TicketMessage
from tests.factories import Actor
from tests.jobs.conftest import finished_job

API = "/api/v1/tickets"


def job_of(customer: Actor, member: Actor | None, *, status: str = "completed") -> int:
    """A job of `customer` done by `member`, written straight to the database."""
    return finished_job(customer, member, status=status)


def open_ticket(client, actor: Actor, *, headers: dict | None = None, **overrides):
    """POST /tickets as `actor` (a valid body with `overrides`); returns the response."""
    body = {
        "subject": "The TV bracket came loose",
        "category": "quality_complaint",
        "description": "The TV was hanging crooked the next morning.",
        **overrides,
    }
    return client.post(API, json=body, headers={**actor.headers, **(headers or {})})


def opened(client, actor: Actor, **overrides) -> dict:
    response = open_ticket(client, actor, **overrides)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def act(client, actor: Actor, ticket_id: int, action: str, **body):
    return client.post(f"{API}/{ticket_id}/actions/{action}", json=body, headers=actor.headers)


def acted(client, actor: Actor, ticket_id: int, action: str, **body) -> dict:
    response = act(client, actor, ticket_id, action, **body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def assign(client, staff: Actor, ticket_id: int, assignee: Actor | None = None):
    body = {"assignee_id": (assignee or staff).user_id}
    return client.post(f"{API}/{ticket_id}/assign", json=body, headers=staff.headers)


def say(client, actor: Actor, ticket_id: int, body: str = "Hello", **extra):
    """POST a message; returns the response."""
    return client.post(
        f"{API}/{ticket_id}/messages", json={"body": body, **extra}, headers=actor.headers
    )


def said(client, actor: Actor, ticket_id: int, body: str = "Hello", **extra) -> dict:
    response = say(client, actor, ticket_id, body, **extra)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def get(client, actor: Actor, ticket_id: int) -> dict:
    response = client.get(f"{API}/{ticket_id}", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ticket_row(ticket_id: int) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket_id)


def set_ticket(ticket_id: int, **columns) -> Ticket:
    """Move a ticket's columns (times, mostly) straight in the database and commit."""
    ticket = db.session.get(Ticket, ticket_id)
    for name, value in columns.items():
        setattr(ticket, name, value)
    db.session.commit()
    return ticket


def events(ticket_id: int, action: str | None = None) -> list[TicketEvent]:
    db.session.expire_all()
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
    if action:
        query = query.where(TicketEvent.action == action)
    return list(db.session.scalars(query.order_by(TicketEvent.id)))


def messages(ticket_id: int) -> list[TicketMessage]:
    db.session.expire_all()
    query = select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
    return list(db.session.scalars(query.order_by(TicketMessage.id)))


def closed_ticket(client, cm: Actor, customer: Actor, **overrides) -> dict:
    """A ticket of `customer` taken through assign → resolve → close via the API."""
    ticket = opened(client, customer, **overrides)
    assert assign(client, cm, ticket["id"]).status_code == 200
    acted(client, cm, ticket["id"], "resolve", note="Bracket re-mounted")
    return acted(client, cm, ticket["id"], "close")
