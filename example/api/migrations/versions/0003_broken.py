"""1.2.0-broken-migration: changes the schema, then fails (the transaction undoes it all)."""
from alembic import op

revision = "0003_broken"
down_revision = "0002_note_titles"


def upgrade():
    op.execute("ALTER TABLE notes ADD COLUMN priority integer")
    raise RuntimeError("deliberately broken migration (example release 1.2.0-broken-migration)")


def downgrade():
    op.execute("ALTER TABLE notes DROP COLUMN priority")
