"""Add a required tier to user (opsuite appB release 3: fails on a table with rows)

Revision ID: c8d2e3f4a5b6
Revises: b7c1d2e3f4a5
Create Date: 2026-12-06 06:01:00

"""
import sqlalchemy as sa
from alembic import op

revision = "c8d2e3f4a5b6"
down_revision = "b7c1d2e3f4a5"
branch_labels = None
depends_on = None


def upgrade():
    # NOT NULL with no default: Postgres refuses it once the table holds a row (the first superuser).
    op.add_column("user", sa.Column("tier", sa.String(length=32), nullable=False))


def downgrade():
    op.drop_column("user", "tier")
