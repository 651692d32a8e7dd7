"""sqlite cases autoincrement

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # 0002 rebuilt `cases` on SQLite without AUTOINCREMENT, so a deleted case's number could be
    # handed out again. Rebuild it with the keyword; PostgreSQL's sequences never reuse ids.
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'cases'"
    ).scalar_one()
    if "AUTOINCREMENT" in sql.upper():
        return
    with op.batch_alter_table(
        "cases", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade() -> None:
    pass  # keeping AUTOINCREMENT is harmless to 0007's code
