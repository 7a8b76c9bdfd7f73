"""The console's streamed CSV: header and rows in order, a byte order mark, formula cells
defused, the rows of a query read in batches, and the body produced as the client reads it."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from accounts.models import User
from console.csv_export import csv_response, rows
from tests.factories import make_actor


def _read(response) -> list[list[str]]:
    text = b"".join(response.response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_streams_header_and_rows_with_formulas_defused(app):
    def records():
        yield (1, "Anna", None)
        yield (2, '=HYPERLINK("x")', "-3")
        yield (3, "@SUM(A1)", "ok")

    with app.test_request_context("/console/x.csv"):
        response = csv_response("members", ("id", "name", "note"), records())
        assert response.mimetype == "text/csv"
        assert response.is_streamed
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith('attachment; filename="members-')
        assert disposition.endswith('.csv"')
        assert _read(response) == [
            ["id", "name", "note"],
            ["1", "Anna", ""],
            ["2", '\'=HYPERLINK("x")', "'-3"],
            ["3", "'@SUM(A1)", "ok"],
        ]


def test_rows_reads_a_query_in_batches(app):
    with app.app_context():
        for n in range(7):
            make_actor("member", email=f"csv{n}@example.test")
        statement = select(User.email).where(User.email.like("csv%@example.test")).order_by(User.id)
        got = [row.email for row in rows(statement, batch=3)]
        assert got == [f"csv{n}@example.test" for n in range(7)]


def test_a_large_export_is_sent_in_chunks(app):
    with app.test_request_context("/console/x.csv"):
        response = csv_response("big", ("n",), ((n,) for n in range(5_000)))
        chunks = list(response.response)
        assert len(chunks) > 5
        assert sum(chunk.count(b"\r\n") for chunk in chunks) == 5_001
