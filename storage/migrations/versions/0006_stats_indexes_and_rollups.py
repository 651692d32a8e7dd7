"""stats indexes and rollups

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # stats: the figures' rollup (storage/stats_models.py, storage/stats_rollup.py); overdue
    # now is served by ix_cases_digest_overdue (status, due_at, ...) below
    op.create_table(
        "stats_rollup_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=True),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO stats_rollup_state (id) VALUES (1)")  # not built yet
    op.create_table(
        "stats_case_tallies",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("building", sa.String(length=16), nullable=False),
        sa.Column("inspection", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("rated", sa.Integer(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "category_id", "building", "inspection", "status"),
    )
    op.create_table(
        "stats_duration_tallies",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "kind", "minutes"),
    )
    # end stats
    # digests (storage/digests.py, indexes in storage/models.py): counts read from indexes alone
    op.create_index(
        "ix_cases_digest_filed",
        "cases",
        ["created_at", "status", "building", "category_id"],
        unique=False,
    )
    op.create_index(
        "ix_cases_digest_resolved",
        "cases",
        ["resolved_at", "status", "building", "category_id", "source", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_cases_digest_overdue",
        "cases",
        ["status", "due_at", "building", "category_id"],
        unique=False,
    )
    # end digests
    # hot issues (storage/hot.py): the open cases of each category, oldest first, from the index
    op.create_index(
        "ix_cases_open_by_category",
        "cases",
        ["status", "category_id", "created_at", "due_at", "reporter_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_cases_open_by_category", table_name="cases")
    # stats
    op.drop_table("stats_duration_tallies")
    op.drop_table("stats_case_tallies")
    op.drop_table("stats_rollup_state")
    # digests
    op.drop_index("ix_cases_digest_overdue", table_name="cases")
    op.drop_index("ix_cases_digest_resolved", table_name="cases")
    op.drop_index("ix_cases_digest_filed", table_name="cases")
    # end digests
