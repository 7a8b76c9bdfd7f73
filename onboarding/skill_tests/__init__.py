"""Skill tests: staff keep a test per skill, members sit attempts scored on the server.

catalogue  tests and their questions, managed by community managers and admins
attempts   a member's sittings: questions served without answers, scoring, retry delay
standing   where members stand with the tests of their claimed skills (set-based)
"""
