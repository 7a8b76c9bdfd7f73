"""Background work of privacy: erasure."""

from __future__ import annotations
