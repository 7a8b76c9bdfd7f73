"""WSGI entry point: gunicorn wsgi:app."""

from crowd import create_app

app = create_app()
