"""Alembic's environment: runs the revisions in versions/ against the database given by
`db.migrations` (never through alembic.ini), in one transaction."""

from __future__ import annotations

from alembic import context

from db import migrations

migrations.run_environment(context.config)
