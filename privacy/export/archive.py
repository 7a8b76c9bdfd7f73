"""The export's ZIP: README.txt, data.json (every section, structured), a CSV file per section
and the person's files under files/.

Rows stream from the database in batches into the CSV entries while their JSON goes to a
temporary file, copied into data.json at the end; files are read one at a time. So memory holds
a batch of rows and one file, not the whole history (the finished ZIP is handed to the storage
as bytes, compressed).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time

from sqlalchemy import select

from crowd.core.db import db, utcnow
from crowd.core.files.storage import FileMissing, storage
from crowd.core.i18n import _l, render
from privacy.export.sections import SECTIONS, Person, files_query, t, their_documents

BATCH = 500
# The ZIP is built in memory up to this size, then in a temporary file.
SPOOL_BYTES = 16 * 1024 * 1024
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/pdf": "pdf",
}


def _plain(value):
    """A column's value as JSON has it: times in ISO 8601, amounts as integers or strings."""
    if value is None or isinstance(value, str | bool | int | float | dict | list):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    # Decimal and anything else a column may hold: its text.
    return str(value)


def _cell(value):
    """A JSON value as a CSV cell: structures as JSON text, None as empty."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _rows(query) -> Iterator[dict]:
    result = db.session.execute(query.execution_options(yield_per=BATCH))
    for row in result.mappings():
        yield {key: _plain(value) for key, value in row.items()}


def _readme(person: Person, sections: list[str], files: list[str], exported_at: datetime) -> str:
    described = {section.name: section.description for section in SECTIONS}
    lines = [
        _l("Your data at Crowd, exported on {date}.", date=exported_at.date().isoformat()),
        "",
        _l(
            "data.json holds everything in one structured file; each CSV file holds one "
            "section of it as a table (UTF-8, comma-separated, a header row). Times are in UTC, "
            "amounts in minor units (cents) of their currency."
        ),
        "",
        _l("The sections:"),
        *(f"- {name}.csv: {render(described[name], person.locale)}" for name in sections),
        "",
        _l(
            "files/: the files you uploaded and the documents addressed to you ({count}).",
            count=len(files),
        ),
        "",
        _l(
            "Other people appear only as you see them in the app: a review of you names its "
            "author's side, not the person; internal notes of our staff are not included."
        ),
    ]
    return "\n".join(render(line, person.locale) if line else "" for line in lines) + "\n"


def build(person: Person) -> bytes:
    """The export's ZIP for `person`, as bytes."""
    exported_at = utcnow()
    with (
        tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as buffer,
        tempfile.TemporaryFile() as json_part,
    ):
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            written: list[str] = []
            header = {"exported_at": exported_at.isoformat(), "user_id": person.user_id}
            json_part.write(json.dumps(header)[:-1].encode() + b', "sections": {')
            for section in SECTIONS:
                query = section.query(person)
                if query is None:
                    continue
                if written:
                    json_part.write(b", ")
                json_part.write(json.dumps(section.name).encode() + b": [")
                _write_section(archive, f"{section.name}.csv", query, json_part)
                json_part.write(b"]")
                written.append(section.name)
            json_part.write(b'}, "files": ')
            files = _write_files(archive, person)
            json_part.write(json.dumps(files, ensure_ascii=False).encode() + b"}")
            json_part.seek(0)
            with archive.open("data.json", "w") as out:
                shutil.copyfileobj(json_part, out)
            readme = _readme(person, written, [f["path"] for f in files], exported_at)
            archive.writestr("README.txt", readme.encode("utf-8"))
        buffer.seek(0)
        return buffer.read()


def _write_section(archive: zipfile.ZipFile, name: str, query, json_part) -> None:
    """One section: its CSV entry, and its rows as a JSON array's items into `json_part`."""
    with archive.open(name, "w") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(list(query.selected_columns.keys()))
        first = True
        for record in _rows(query):
            writer.writerow([_cell(value) for value in record.values()])
            json_part.write((b"" if first else b", ") + _json(record))
            first = False
        text.flush()
        text.detach()


def _json(record: dict) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


def _write_files(archive: zipfile.ZipFile, person: Person) -> list[dict]:
    """Their stored files and the PDFs of the documents addressed to them, under files/."""
    listed = []
    store = storage()
    for row in list(_rows(files_query(person))):
        extension = _EXTENSIONS.get(row["content_type"] or "", "bin")
        path = f"files/{row['purpose']}/{row['id']}.{extension}"
        try:
            data = store.get(row["key"])
        except FileMissing:
            # Deleted from storage meanwhile (a replaced photo): nothing to copy.
            continue
        archive.writestr(path, data)
        listed.append(
            {
                "path": path,
                "purpose": row["purpose"],
                "content_type": row["content_type"],
                "size": len(data),
            }
        )
    documents = their_documents(person)
    if documents is not None:
        table = t("documents")
        for document_id, number in list(db.session.execute(documents)):
            pdf = db.session.scalar(select(table.c.pdf).where(table.c.id == document_id))
            if not pdf:
                continue
            path = f"files/documents/{str(number).replace('/', '-')}.pdf"
            archive.writestr(path, bytes(pdf))
            listed.append(
                {
                    "path": path,
                    "purpose": "document",
                    "content_type": "application/pdf",
                    "size": len(pdf),
                }
            )
    return listed
