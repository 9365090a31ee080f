"""A revision for tests only, on top of the newest real one: it rebuilds every table on
SQLite (batch mode's copy, drop and rename, what most SQLite migrations do) and adds a
column everywhere, so the upgrade tests see a real change to tables holding data.

Revision ID: t001
"""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from alembic import op

from db import migrations

revision = "t001"
down_revision = migrations.head_revision()
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    recreate: Literal["always", "auto"] = "always" if bind.dialect.name == "sqlite" else "auto"
    for table in sa.inspect(bind).get_table_names():
        if table == "alembic_version":
            continue
        with op.batch_alter_table(table, recreate=recreate) as batch:
            batch.add_column(sa.Column("migration_probe", sa.Integer(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError
