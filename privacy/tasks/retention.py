"""Background work of privacy: retention."""

from __future__ import annotations
