"""1.3.0-contract: notes.body is renamed to content. A contract step that breaks every earlier
release (they read `body`): the deploy's rollback check finds it before the live migration."""
from alembic import op

revision = "0004_note_body_renamed"
down_revision = "0002_note_titles"


def upgrade():
    op.execute("ALTER TABLE notes RENAME COLUMN body TO content")


def downgrade():
    op.execute("ALTER TABLE notes RENAME COLUMN content TO body")
