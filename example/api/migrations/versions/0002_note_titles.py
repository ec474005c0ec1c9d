"""1.1.0: notes get a required title, backfilled from existing bodies (schema and data)."""
from alembic import op

revision = "0002_note_titles"
down_revision = "0001_notes_and_outbox"


def upgrade():
    op.execute("ALTER TABLE notes ADD COLUMN title text")
    op.execute("UPDATE notes SET title = left(body, 40)")
    op.execute("ALTER TABLE notes ALTER COLUMN title SET NOT NULL")
    # Expand/contract: a default keeps 1.0.0 (which knows no title) able to insert after a rollback.
    op.execute("ALTER TABLE notes ALTER COLUMN title SET DEFAULT ''")


def downgrade():
    op.execute("ALTER TABLE notes DROP COLUMN title")
