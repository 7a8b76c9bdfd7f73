"""Background work of privacy: exports."""

from __future__ import annotations
