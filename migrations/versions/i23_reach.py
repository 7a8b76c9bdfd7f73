"""matching at 1,000,000 members: each skill claim carries its member's reach, indexed with the skill

Revision ID: i23_reach
Revises: i23_scale
Create Date: 2026-12-07 12:00:00.000000

EXPLAIN ANALYZE of the prefilter for a job in Berlin at 1,000,000 members: the GiST index of
members' reach (ix_members_reach) returned the 149,219 members whose service area covers the
job — a bitmap heap scan of ~21,000 pages, most of the query's 75–180 ms — which were then
hashed against the 57,013 holders of the skill, to keep 8,155. The reach index cannot narrow by
skill. Here every member_skills row carries its member's reach box (reach_lat_lo … reach_lon_hi,
the same box as ix_members_reach's expression), kept by triggers on both databases: a claim
takes its member's box when written, and a member's new location or service radius is copied to
all of their claims. On PostgreSQL the box is also a stored generated column `reach`, and a GiST
index on (skill_id, reach) INCLUDE (member_id, verified) — btree_gist for the skill — answers "holders of
this skill whose reach covers the job" by an index-only scan: a job reads its ~8,000
candidates, not its city. The backfill is one set-based UPDATE.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "i23_reach"
down_revision = "i23_scale"
branch_labels = None
depends_on = None

COLUMNS = ("reach_lat_lo", "reach_lat_hi", "reach_lon_lo", "reach_lon_hi")


def _box(lat: str, lon: str, radius: str) -> tuple[str, str, str, str]:
    """The reach box of a member at lat/lon with the radius, as the four column values: the
    very expression of ix_members_reach (the longitude span widened by 1 % for the sphere)."""
    d_lat = f"{radius} / 111.195"
    d_lon = f"{radius} / (111.195 * cos(radians({lat}))) * 1.01"
    return (f"{lat} - {d_lat}", f"{lat} + {d_lat}", f"{lon} - {d_lon}", f"{lon} + {d_lon}")


def _set(lat: str, lon: str, radius: str) -> str:
    return ", ".join(
        f"{column} = {value}" for column, value in zip(COLUMNS, _box(lat, lon, radius), strict=True)
    )


# PostgreSQL: the box itself as a stored generated column, so that the index holds plain
# columns and can answer with member_id (INCLUDE) alone — an index-only scan; `verified` is
# included too, for the categories that require verified skills (else a heap visit per claim). Over an expression
# the planner would visit the heap for every claim it finds (7,787 pages for a Berlin job at
# 1,000,000 members, 113 ms read cold against 1.9 ms index-only).
REACH_BOX = (
    "ALTER TABLE member_skills ADD COLUMN reach box GENERATED ALWAYS AS "
    "(box(point(reach_lon_lo, reach_lat_lo), point(reach_lon_hi, reach_lat_hi))) STORED"
)
REACH_INDEX = (
    "CREATE INDEX ix_member_skills_reach ON member_skills USING gist (skill_id, reach) "
    "INCLUDE (member_id, verified)"
)

POSTGRES_TRIGGERS = f"""
CREATE FUNCTION member_skills_take_reach() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A claim takes its member's reach box when written (or moved to another member).
    SELECT {", ".join(_box("m.lat", "m.lon", "m.service_radius_km"))}
      INTO NEW.reach_lat_lo, NEW.reach_lat_hi, NEW.reach_lon_lo, NEW.reach_lon_hi
      FROM members m WHERE m.id = NEW.member_id;
    RETURN NEW;
END $$;

CREATE TRIGGER member_skills_take_reach BEFORE INSERT OR UPDATE OF member_id ON member_skills
    FOR EACH ROW EXECUTE FUNCTION member_skills_take_reach();

CREATE FUNCTION members_share_reach() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A member's new location or service radius goes to every claim of theirs.
    UPDATE member_skills SET {_set("NEW.lat", "NEW.lon", "NEW.service_radius_km")}
     WHERE member_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER members_share_reach AFTER UPDATE OF lat, lon, service_radius_km ON members
    FOR EACH ROW
    WHEN (OLD.lat IS DISTINCT FROM NEW.lat OR OLD.lon IS DISTINCT FROM NEW.lon
          OR OLD.service_radius_km IS DISTINCT FROM NEW.service_radius_km)
    EXECUTE FUNCTION members_share_reach();
"""

_SQLITE_TAKE = (
    f"UPDATE member_skills SET ({', '.join(COLUMNS)}) = "
    f"(SELECT {', '.join(_box('m.lat', 'm.lon', 'm.service_radius_km'))} "
    "FROM members m WHERE m.id = NEW.member_id) "
    "WHERE member_id = NEW.member_id AND skill_id = NEW.skill_id;"
)
SQLITE_TRIGGERS = (
    f"CREATE TRIGGER member_skills_take_reach AFTER INSERT ON member_skills "
    f"FOR EACH ROW BEGIN {_SQLITE_TAKE} END",
    f"CREATE TRIGGER member_skills_move_reach AFTER UPDATE OF member_id ON member_skills "
    f"FOR EACH ROW BEGIN {_SQLITE_TAKE} END",
    "CREATE TRIGGER members_share_reach AFTER UPDATE OF lat, lon, service_radius_km ON members "
    "FOR EACH ROW WHEN OLD.lat IS NOT NEW.lat OR OLD.lon IS NOT NEW.lon "
    "OR OLD.service_radius_km IS NOT NEW.service_radius_km BEGIN "
    f"UPDATE member_skills SET {_set('NEW.lat', 'NEW.lon', 'NEW.service_radius_km')} "
    "WHERE member_id = NEW.id; END",
)


def upgrade():
    with op.batch_alter_table("member_skills") as batch:
        for column in COLUMNS:
            batch.add_column(sa.Column(column, sa.Float(), nullable=True))
    postgres = op.get_bind().dialect.name == "postgresql"
    # The triggers first: creating them locks members and member_skills against writes until
    # this transaction commits, so no change slips between the backfill and the triggers.
    if postgres:
        op.execute(POSTGRES_TRIGGERS)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    # Set-based: one statement whatever the crowd's size (3 M claims at 1 M members).
    op.execute(
        f"UPDATE member_skills SET {_set('m.lat', 'm.lon', 'm.service_radius_km')} "
        "FROM members m WHERE m.id = member_skills.member_id"
    )
    if postgres:
        # After the backfill: adding the generated column rewrites the table, which also drops
        # the dead row versions the UPDATE left (the table would stay twice its size).
        op.execute(REACH_BOX)
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(REACH_INDEX)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER members_share_reach ON members")
        op.execute("DROP TRIGGER member_skills_take_reach ON member_skills")
        op.execute("DROP FUNCTION members_share_reach()")
        op.execute("DROP FUNCTION member_skills_take_reach()")
        op.execute("DROP INDEX ix_member_skills_reach")
        op.execute("ALTER TABLE member_skills DROP COLUMN reach")
    else:
        for name in ("members_share_reach", "member_skills_move_reach", "member_skills_take_reach"):
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("member_skills") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column)
