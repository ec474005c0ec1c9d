"""1.0.0: notes and the email outbox."""
from alembic import op

revision = "0001_notes_and_outbox"
down_revision = None


def upgrade():
    op.execute("""
        CREATE TABLE notes (
            id serial PRIMARY KEY,
            body text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE outbox (
            id serial PRIMARY KEY,
            kind text NOT NULL,
            payload jsonb NOT NULL DEFAULT '{}',
            status text NOT NULL DEFAULT 'pending',
            created_at timestamptz NOT NULL DEFAULT now(),
            processed_at timestamptz
        );
    """)


def downgrade():
    op.execute("DROP TABLE outbox; DROP TABLE notes;")
