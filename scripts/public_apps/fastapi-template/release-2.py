"""Add a nullable note to item (opsuite appB release 2: a harmless migration)

Revision ID: b7c1d2e3f4a5
Revises: fe56fa70289e
Create Date: 2026-12-06 06:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "b7c1d2e3f4a5"
down_revision = "fe56fa70289e"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("item", sa.Column("note", sa.String(length=255), nullable=True))


def downgrade():
    op.drop_column("item", "note")
