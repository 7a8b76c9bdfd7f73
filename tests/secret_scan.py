"""Is a secret anywhere in the database? Every column of every table, in the forms it could take.

`assert_secret_nowhere(secret)` reads every row of every table the database has (reflected, so
a table no model maps is read too) through the test's session — what the request wrote but has
not committed included — and looks for the secret as it is, without its `crs_`/`crk_`-style
prefix, JSON-escaped, base64 (standard and URL-safe, with or without padding) and hex.
"""

from __future__ import annotations

import base64
import json
import warnings
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import MetaData, select
from sqlalchemy.exc import SAWarning

from crowd.extensions import db

_SKIP = (bool, int, float, Decimal, datetime, date, time)
_reflected: dict[str, MetaData] = {}


def _tables():
    """Every table of the database (reflected once per run and dialect)."""
    bind = db.session.connection()
    key = bind.dialect.name
    if key not in _reflected:
        metadata = MetaData()
        with warnings.catch_warnings():
            # SQLite cannot reflect expression indexes (lower(name) prefixes); columns suffice.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
            metadata.reflect(bind=bind)
        missing = set(db.metadata.tables) - set(metadata.tables)
        assert not missing, f"tables the models know but the database lacks: {missing}"
        _reflected[key] = metadata
    return list(_reflected[key].tables.values())


def secret_forms(secret: str) -> set[str]:
    """The strings whose presence would give the secret away."""
    raw = secret.encode()
    body = secret.split("_", 1)[1] if "_" in secret[:5] else secret
    forms = {secret, body, json.dumps(secret)[1:-1], raw.hex()}
    forms.add("".join(f"\\u{ord(char):04x}" for char in secret))
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for value in (raw, body.encode()):
            encoded = encode(value).decode()
            forms |= {encoded, encoded.rstrip("=")}
    return forms


def _texts(value) -> list[str]:
    if value is None or isinstance(value, _SKIP):
        return []
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes | bytearray):
        return [bytes(value).decode("latin-1"), bytes(value).hex()]
    if isinstance(value, dict | list | tuple):
        return [json.dumps(value, default=str), str(value)]
    return [str(value)]


def find_secret(secret: str) -> list[str]:
    """Where the secret (in any of its forms) is stored: "table.column" of each hit."""
    forms = secret_forms(secret)
    hits = []
    for table in _tables():
        for row in db.session.execute(select(table)).mappings():
            for column, value in row.items():
                texts = _texts(value)
                if any(
                    form in text or form.lower() in text.lower() for text in texts for form in forms
                ):
                    hits.append(f"{table.name}.{column}")
    return hits


def assert_secret_nowhere(secret: str) -> None:
    """Fail, naming the columns, when the secret is stored anywhere in the database."""
    assert len(secret) >= 16, "scan for a real secret, not a fragment that may occur by chance"
    db.session.flush()
    hits = find_secret(secret)
    assert not hits, f"the secret is stored in {sorted(set(hits))}"
