"""Bench rows for the console's Programmes communication pages (console/comms.py), set-based:

- broadcasts: one sent to every active member (the worst case of a reach count), eleven sent
  to a fiftieth of the crowd each, a draft and a scheduled one; each recipient with an inbox
  entry and an email and a push delivery, two in five read (the triggers of migration
  i22_tally count them as they are written, as they count the app's own writes);
- topic groups: one group, 5,000 threads by members, 1,500 reports (500 open) and 50 mutes;
- help centre: 8 categories, 300 published articles (version 1) and 2,000 answers about one.

`seed_comms(conn, cm_id)` runs after the crowd is seeded (users 1..M are members 1..M);
`comms_pages(url, api)` gives bench/console_pages.py the pages and their API floor.
"""

from __future__ import annotations

import psycopg

from bench.pgdb import plain_url

STEPS = [
    (
        "broadcasts",
        """
INSERT INTO broadcasts (kind, title, body, translations, segment, status, created_by_id,
                        sent_at, scheduled_for, recipients_count, created_at, updated_at)
SELECT 'announcement', 'Bench broadcast ' || b, 'News for the crowd.',
       '{"en": {"title": "News", "body": "News for the crowd."}}',
       (CASE WHEN b = 1 THEN '{"statuses": ["active"]}' ELSE '{"levels": [1]}' END)::json,
       CASE WHEN b <= 12 THEN 'sent' WHEN b = 13 THEN 'draft' ELSE 'scheduled' END,
       %(cm)s, CASE WHEN b <= 12 THEN now() - b * interval '1 day' END,
       CASE WHEN b = 14 THEN now() + interval '1 day' END, 0,
       now() - b * interval '1 day', now()
  FROM generate_series(1, 14) b""",
    ),
    (
        "broadcast recipients",
        """
INSERT INTO broadcast_recipients (broadcast_id, member_id, delivered_at, read_at)
SELECT b.id, m.id, b.sent_at,
       CASE WHEN (m.id + b.id) %% 5 < 2 THEN b.sent_at + interval '1 hour' END
  FROM broadcasts b
  JOIN members m ON m.status = 'active'
   AND (b.title = 'Bench broadcast 1' OR m.id %% 50 = b.id %% 50)
 WHERE b.status = 'sent'""",
    ),
    (
        "broadcast inbox",
        """
INSERT INTO notifications (user_id, kind, title, body, data, dedupe_key, created_at, read_at,
                           tally_key)
SELECT m.user_id, 'broadcast.announcement', b.title, b.body,
       json_build_object('broadcast_id', b.id),
       'broadcast:' || r.broadcast_id || ':' || r.member_id, r.delivered_at, r.read_at,
       'broadcast:' || r.broadcast_id
  FROM broadcast_recipients r
  JOIN broadcasts b ON b.id = r.broadcast_id
  JOIN members m ON m.id = r.member_id""",
    ),
    (
        "broadcast deliveries",
        """
INSERT INTO deliveries (notification_id, user_id, kind, channel, status, attempts,
                        next_attempt_at, created_at, sent_at, tally_key)
SELECT n.id, n.user_id, n.kind, c.channel, 'sent', 1, n.created_at, n.created_at, n.created_at,
       n.tally_key
  FROM notifications n CROSS JOIN (VALUES ('email'), ('push')) c (channel)
 WHERE n.kind = 'broadcast.announcement'""",
    ),
    (
        "broadcast counts",
        """
UPDATE broadcasts b SET recipients_count =
       (SELECT count(*) FROM broadcast_recipients r WHERE r.broadcast_id = b.id)""",
    ),
    (
        "topic group",
        """
INSERT INTO topic_groups (slug, name, description, kind, skill_id, requires_verified_skill,
                          min_level_rank, member_count, created_by_id, created_at, updated_at)
SELECT 'bench-group', 'Bench group', 'Talk shop.', 'skill', min(id), false, 0, 0, %(cm)s,
       now(), now()
  FROM skills""",
    ),
    (
        "topic threads",
        """
INSERT INTO topic_posts (group_id, author_user_id, title, body, created_at, pinned,
                         reply_count, last_activity_at)
SELECT (SELECT id FROM topic_groups WHERE slug = 'bench-group'),
       1 + g %% (SELECT count(*) FROM members), 'Thread ' || g,
       'Which anchors hold a 40 kg TV on drywall? ' || g, now() - g * interval '1 minute',
       false, 0, now() - g * interval '1 minute'
  FROM generate_series(1, 5000) g""",
    ),
    (
        "post reports",
        """
INSERT INTO topic_post_reports (post_id, reporter_user_id, reason, note, status, created_at,
                                decided_by_id, decided_at)
SELECT p.id, 1 + p.author_user_id %% (SELECT count(*) FROM members),
       (ARRAY['spam', 'abuse', 'off_topic', 'personal_data', 'other'])[1 + p.id %% 5],
       'Reported in the bench', CASE WHEN p.id %% 3 = 0 THEN 'open' ELSE 'dismissed' END,
       p.created_at + interval '1 minute',
       CASE WHEN p.id %% 3 <> 0 THEN %(cm)s END,
       CASE WHEN p.id %% 3 <> 0 THEN p.created_at + interval '1 hour' END
  FROM topic_posts p WHERE p.id <= 1500""",
    ),
    (
        "mutes",
        """
INSERT INTO community_mutes (member_id, reason, created_by_id, created_at)
SELECT g * 7, 'Advertising', %(cm)s, now() - g * interval '1 hour'
  FROM generate_series(1, 50) g""",
    ),
    (
        "help categories",
        """
INSERT INTO help_categories (slug, name, position)
SELECT 'topic-' || g, 'Topic ' || g, g FROM generate_series(1, 8) g""",
    ),
    (
        "help articles",
        """
INSERT INTO help_articles (slug, category_id, status, audience, helpful_count,
                           not_helpful_count, created_by_id, published_at, created_at, updated_at)
SELECT 'article-' || g, (SELECT min(id) FROM help_categories) + g %% 8, 'published', 'members',
       0, 0, %(cm)s, now() - g * interval '1 hour', now() - g * interval '1 hour', now()
  FROM generate_series(1, 300) g""",
    ),
    (
        "help versions",
        """
INSERT INTO help_article_versions (article_id, number, title, summary, body, created_by_id,
                                   created_at, published_at)
SELECT a.id, 1, 'How to ' || a.slug, 'A short answer.', repeat('Some help text. ', 200),
       %(cm)s, a.created_at, a.published_at
  FROM help_articles a""",
    ),
    (
        "help published",
        """
UPDATE help_articles a SET published_version_id = v.id
  FROM help_article_versions v WHERE v.article_id = a.id""",
    ),
    (
        "help feedback",
        """
INSERT INTO help_article_feedback (article_id, user_id, helpful, version_id, comment,
                                   created_at, updated_at)
SELECT a.id, g, g %% 4 <> 0, a.published_version_id,
       CASE WHEN g %% 10 = 0 THEN 'Missing a picture' END, now(), now()
  FROM generate_series(1, least(2000, (SELECT count(*) FROM members))) g
  CROSS JOIN (SELECT id, published_version_id FROM help_articles ORDER BY id LIMIT 1) a""",
    ),
]


def seed_comms(conn, cm_id: int) -> None:
    """Write the rows above (after the crowd: members 1..M with users 1..M)."""
    for _label, sql in STEPS:
        conn.execute(sql, {"cm": cm_id})


def comms_pages(url: str, api: str) -> list[tuple]:
    """(label, console page, API calls) for the broadcasts list, the biggest broadcast's page,
    the moderation queue and an article."""
    with psycopg.connect(plain_url(url)) as conn:
        biggest = conn.execute(
            "SELECT id FROM broadcasts ORDER BY recipients_count DESC, id LIMIT 1"
        ).fetchone()[0]
        article = conn.execute("SELECT min(id) FROM help_articles").fetchone()[0]
    base = "/console/programmes"
    return [
        ("broadcasts", f"{base}/broadcasts", [f"{api}/broadcasts?limit=25"]),
        ("broadcast (all)", f"{base}/broadcasts/{biggest}", [
            f"{api}/broadcasts/{biggest}",
            f"{api}/broadcasts/{biggest}/recipients?limit=25",
        ]),
        ("moderation", f"{base}/moderation", [
            f"{api}/topic-reports?status=open&limit=25",
            f"{api}/community-mutes?active=true&limit=25",
        ]),
        ("articles", f"{base}/articles", [f"{api}/help/articles?limit=25"]),
        ("article", f"{base}/articles/{article}", [
            f"{api}/help/articles/{article}",
            f"{api}/help/articles/{article}/versions?limit=25",
            f"{api}/help/articles/{article}/feedback?limit=25",
        ]),
    ]  # fmt: skip
