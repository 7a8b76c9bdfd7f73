"""Search: every word must occur; title hits rank over summary over body hits, then recency."""

from __future__ import annotations

from tests.helpcentre.conftest import (
    ARTICLES,
    add_version,
    create_article,
    create_category,
    field_errors,
    hits,
    ok,
    published_article,
    search,
)


def _article(client, cm, title, body="Nothing special here.", summary=None, **fields) -> int:
    return published_article(client, cm, title=title, summary=summary, body=body, **fields)["id"]


def test_every_word_must_occur_somewhere(client, cm, member):
    mount = _article(client, cm, "Mounting a TV", body="Find the studs before drilling.")
    _article(client, cm, "Repairing a dishwasher", body="Check the pump first.")

    assert hits(client, member, "tv studs") == [mount]
    assert hits(client, member, "TV   STUDS") == [mount]
    assert hits(client, member, "tv dishwasher") == []
    assert hits(client, member, "pump") != [mount]


def test_title_hits_rank_over_summary_over_body_then_recency(client, cm, member):
    in_body = _article(client, cm, "Networks", body="Restart the router.")
    in_title = _article(client, cm, "The router explained")
    in_summary = _article(client, cm, "Wi-Fi at home", summary="Where the router goes.")
    newer_body = _article(client, cm, "More networks", body="A router, again.")
    # Two body hits never outweigh one summary hit.
    twice_in_body = _article(client, cm, "Mesh", body="router router router")

    found = ok(search(client, member, "router"))["items"]

    assert [hit["id"] for hit in found] == [
        in_title,
        in_summary,
        twice_in_body,
        newer_body,
        in_body,
    ]
    assert [hit["score"] for hit in found] == [100, 10, 1, 1, 1]


def test_more_words_in_the_title_rank_higher(client, cm, member):
    one = _article(client, cm, "Smart lock", body="Pairing the lock with the hub.")
    both = _article(client, cm, "Smart lock pairing", body="Hub first.")

    assert hits(client, member, "lock pairing") == [both, one]


def test_matching_ignores_case_including_umlauts(client, cm, member):
    overview = _article(client, cm, "Übersicht der Auszahlungen", body="ÄNDERUNGEN im März.")

    for q in ("übersicht", "ÜBERSICHT", "auszahlungen", "änderungen märz"):
        assert hits(client, member, q) == [overview], q


def test_percent_and_underscore_match_literally(client, cm, member):
    percent = _article(client, cm, "Discounts", body="Save 50% today.")
    _article(client, cm, "Volumes", body="Up to 500 litres.")
    underscore = _article(client, cm, "Settings", body="Set wifi_mode first.")
    _article(client, cm, "Modes", body="Set wifixmode first.")

    assert hits(client, member, "50%") == [percent]
    assert hits(client, member, "wifi_mode") == [underscore]
    assert hits(client, member, "%%") == []
    assert hits(client, member, "__") == []


def test_search_respects_audience_and_publication(client, cm, member, customer):
    for_customers = _article(client, cm, "Paying by invoice", audience="customers")
    for_members = _article(client, cm, "Invoice for your plan")
    for_everyone = _article(client, cm, "Invoice questions", audience="everyone")
    create_article(client, cm, title="Invoice draft")
    archived = _article(client, cm, "Invoice archive")
    ok(client.post(f"{ARTICLES}/{archived}/archive", headers=cm.headers))

    assert set(hits(client, member, "invoice")) == {for_members, for_everyone}
    assert set(hits(client, customer, "invoice")) == {for_customers, for_everyone}
    assert set(hits(client, cm, "invoice")) == {for_customers, for_members, for_everyone}


def test_search_reads_the_published_version_only(client, cm, member):
    article = _article(client, cm, "Wallbox basics")
    add_version(client, cm, article, title="Charging station basics")

    assert hits(client, member, "wallbox") == [article]
    assert hits(client, member, "charging") == []


def test_filter_by_category(client, cm, member):
    tv = create_category(client, cm)["id"]
    in_tv = _article(client, cm, "Cables", category_id=tv)
    _article(client, cm, "Cables elsewhere")

    assert hits(client, member, "cables", category_id=tv) == [in_tv]
    response = search(client, member, "cables", category_id=999_999)
    assert "category_id" in field_errors(response, "query")


def test_a_bad_query_names_q(client, member):
    for q in ("", "a", "a b c", " ", "w1 w2 w3 w4 w5 w6 w7 w8 w9", "x" * 201):
        assert "q" in field_errors(search(client, member, q), "query"), q
    missing = client.get("/api/v1/help/search", headers=member.headers)
    assert "q" in field_errors(missing, "query")
    # Short words are ignored; the rest is searched.
    assert ok(search(client, member, "a tv"))["items"] == []


def test_the_snippet_shows_the_body_around_the_first_hit(client, cm, member):
    body = " ".join(["Lorem ipsum dolor."] * 30 + ["Isolate the FUSE first."] + ["Sit amet."] * 30)
    _article(client, cm, "Electrics", body=body)
    _article(client, cm, "Fuse", body="Short body.")

    found = {hit["title"]: hit for hit in ok(search(client, member, "fuse"))["items"]}

    snippet = found["Electrics"]["snippet"]
    assert "Isolate the FUSE first." in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert len(snippet) <= 202
    assert found["Fuse"]["snippet"] == "Short body."


def test_results_are_paginated_by_rank(client, cm, member):
    ids = [_article(client, cm, f"Soundbar {n}") for n in range(3)]
    ids += [_article(client, cm, "Other", body="About a soundbar.")]

    first = ok(search(client, member, "soundbar", limit=3))
    cursor = first["page"]["next_cursor"]
    rest = ok(search(client, member, "soundbar", limit=3, cursor=cursor))

    assert [h["id"] for h in first["items"] + rest["items"]] == [*ids[2::-1], ids[3]]
    assert first["page"]["total"] == 4
    assert rest["page"]["next_cursor"] is None
    for cursor in ("not-a-cursor", "WzEsMl0", "WyJ4IiwgIjIwMjQtMDEtMDEiLCAxXQ"):
        assert "cursor" in field_errors(search(client, member, "soundbar", cursor=cursor), "query")
