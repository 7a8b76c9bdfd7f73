"""CSV downloads of the console's tables, streamed: rows are written as they are read, so an
export of 100,000 members never holds them all in memory.

    @blp.page("/members.csv")
    def members_csv():
        statement = select(...).where(...filters of the page...)
        return csv_response("members", ("id", "name", ...), rows(statement))

`rows(statement)` reads a query in batches (`yield_per`: a server-side cursor on PostgreSQL).
Cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
return) are prefixed with an apostrophe (OWASP "CSV injection"). The file is UTF-8 with a byte
order mark, so Excel shows umlauts; the name carries the date of the export.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime

from flask import Response, stream_with_context

from crowd.core.db import db

BATCH = 2_000
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def rows(statement, *, batch: int = BATCH) -> Iterator[Sequence]:
    """The rows of a SELECT, fetched `batch` at a time."""
    result = db.session.execute(statement.execution_options(yield_per=batch))
    for partition in result.partitions():
        yield from partition


def _lines(header: Sequence[str], records: Iterable[Sequence]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield ("\ufeff" + buffer.getvalue()).encode()
    buffer.seek(0)
    buffer.truncate()
    for count, record in enumerate(records, start=1):
        writer.writerow([_cell(value) for value in record])
        if count % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def csv_response(name: str, header: Sequence[str], records: Iterable[Sequence]) -> Response:
    """A streamed CSV download named `<name>-<UTC date>.csv`."""
    filename = f"{name}-{datetime.now(UTC):%Y-%m-%d}.csv"
    response = Response(
        stream_with_context(_lines(header, records)), mimetype="text/csv", direct_passthrough=True
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.charset = "utf-8"
    return response
