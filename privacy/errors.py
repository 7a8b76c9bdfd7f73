"""Named errors of privacy."""

from __future__ import annotations
