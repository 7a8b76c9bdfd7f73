"""Helpers for upload tests: images as phones send them, and the upload flow as a client runs it."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import requests
from PIL import ExifTags, Image

API = "/api/v1"
# Berlin, as a phone writes it into a photo's EXIF.
GPS = {1: "N", 2: (52.0, 31.0, 0.0), 3: "E", 4: (13.0, 24.0, 0.0)}


def jpeg_with_gps(size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG with a GPS position, a camera make and orientation 6 (turned 90° clockwise)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.Base.GPSInfo] = GPS
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return data


def png(size: tuple[int, int] = (300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 255, 200)).save(out, "PNG")
    return out.getvalue()


def pdf(author: str = "Max Mustermann") -> bytes:
    """A one-page PDF whose document information names its author."""
    from fpdf import FPDF

    document = FPDF()
    document.add_page()
    document.set_font("helvetica")
    document.cell(text="Receipt 42")
    document.set_author(author)
    return bytes(document.output())


def start_upload(
    client, actor, data: bytes, content_type: str = "image/jpeg", purpose: str = "profile_photo"
) -> dict:
    response = client.post(
        f"{API}/files",
        json={"purpose": purpose, "content_type_hint": content_type, "size": len(data)},
        headers=actor.headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def put_bytes(client, upload: dict, data: bytes):
    """PUT the bytes where the API said: our own app (local storage) or a real HTTP server."""
    url, headers = upload["upload"]["url"], upload["upload"]["headers"]
    assert upload["upload"]["method"] == "PUT"
    parts = urlsplit(url)
    if parts.path.startswith("/files/local/"):
        return client.put(parts.path, data=data, headers=headers)
    return requests.put(url, data=data, headers=headers, timeout=10)


def fetch(client, url: str) -> tuple[int, bytes, dict]:
    """GET a download URL (ours or the S3 server's): status, body, headers."""
    parts = urlsplit(url)
    if parts.path.startswith("/files/local/"):
        response = client.get(parts.path)
        return response.status_code, response.data, dict(response.headers)
    response = requests.get(url, timeout=10)
    return response.status_code, response.content, dict(response.headers)


def upload(
    client, actor, data: bytes, content_type: str = "image/jpeg", purpose: str = "profile_photo"
):
    """The whole flow: create, PUT, confirm; the confirmation's response."""
    started = start_upload(client, actor, data, content_type, purpose)
    put = put_bytes(client, started, data)
    assert put.status_code == 200, getattr(put, "text", None) or put.get_data(as_text=True)
    return client.post(f"{API}/files/{started['id']}/confirm", headers=actor.headers)
