"""Tests of privacy: retention, exports, erasure."""
