"""PDFs from clients (ticket attachments): recognised by their content and written anew.

pypdf parses the file and copies its pages into a new document: the document information
(author, creator, producer, dates) and XMP metadata, JavaScript, embedded files and form
actions of the original are left behind. An encrypted PDF is refused (we could not check it).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

# A PDF bomb: thousands of pages are no receipt or letter.
MAX_PAGES = 200


class NotAPdf(Exception):
    """The bytes are no PDF we can read (or one we will not keep: encrypted, too long)."""


@dataclass(frozen=True)
class CleanPdf:
    data: bytes
    pages: int
    content_type: str = "application/pdf"
    extension: str = "pdf"


def looks_like_pdf(data: bytes) -> bool:
    """The PDF header within the first KiB (where readers look for it)."""
    return b"%PDF-" in data[:1024]


def clean_pdf(data: bytes) -> CleanPdf:
    """The PDF's pages in a new file without the original's metadata and active content."""
    if not looks_like_pdf(data):
        raise NotAPdf("no PDF header")
    # pypdf logs every repaired cross-reference of a sloppy file: not our news.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise NotAPdf("encrypted")
        pages = len(reader.pages)
        if not 1 <= pages <= MAX_PAGES:
            raise NotAPdf(f"{pages} pages")
        writer = PdfWriter()
        for page in reader.pages:
            writer.add_page(page)
        writer.remove_annotations(subtypes=("/Link", "/FileAttachment", "/Widget", "/Launch"))
        out = io.BytesIO()
        writer.write(out)
    except NotAPdf:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as error:
        raise NotAPdf(str(error)) from None
    return CleanPdf(out.getvalue(), pages)
