"""Test data shaped like a real app's, not like pgbench's: 32 tables (a few large, many small) with text,
jsonb, timestamps, foreign keys and several large indexes, at a chosen size.

pgbench's data compresses 56:1 and is one big table, the opposite of a real schema: a dump of it is cheap
to compress and a restore of it builds one index. Here the large tables carry prose-like text and jsonb
(which compresses about 3-4:1 as real text does) and the restore has 40+ indexes and the foreign keys to
check. Everything is generated inside the server (generate_series), so no data crosses this process.

`phases(megabytes)` returns the SQL as phases run in order, each a list of scripts that may run at
once in separate sessions of one database (`statements` is the same in one session); the size is what
the four large tables are scaled to, the small ones stay small (as in an app: reference data does not
grow). Everything lives in the schema SCHEMA, so the app's own tables are never touched
and `DROP SCHEMA ... CASCADE` removes it whole.
"""

SCHEMA = "realistic"

# A pool of paragraphs the large tables draw from: rows pick one at random and append their own id and a
# hash, so no two rows are equal, but the text is words (as a comment or an email is), not hex.
_WORDS = ("invoice customer shipment delayed thanks please review attached order payment received account "
          "update password reset schedule meeting project deadline report quarterly revenue growth team "
          "support ticket resolved escalated priority urgent feature request release notes deploy backup "
          "restore database migration server latency error timeout retry queue worker email welcome "
          "subscription renewal cancelled refund warehouse inventory stock product catalogue price discount")

# The small tables: reference and configuration data an app has whatever its size (name, rows).
_SMALL = (("countries", 250), ("currencies", 160), ("plans", 12), ("feature_flags", 80), ("settings", 300),
          ("roles", 20), ("permissions", 150), ("role_permissions", 900), ("tags", 500), ("teams", 400),
          ("warehouses", 30), ("tax_rates", 200), ("email_templates", 60), ("webhooks", 120),
          ("api_keys", 600), ("holidays", 365), ("locales", 90), ("units", 40), ("categories", 700),
          ("suppliers", 1500))

# The large tables' share of the requested size (bytes per row measured on Postgres 15, with indexes).
_LARGE = {"events": (0.40, 380), "comments": (0.25, 760), "audit_log": (0.20, 340),
          "webhook_deliveries": (0.15, 980)}


def _mid_rows(megabytes: int) -> dict[str, int]:
    """The middle tables grow with the app, more slowly than its logs and events."""
    base = max(1, megabytes) * 40
    return {"accounts": base // 20 + 50, "users": base // 4 + 100, "projects": base // 8 + 50,
            "tasks": base + 200, "orders": base // 2 + 100, "order_items": base * 2 + 300,
            "products": base // 10 + 100, "invoices": base // 3 + 100, "payments": base // 3 + 100,
            "addresses": base // 4 + 100, "sessions": base // 2 + 100, "notifications": base + 100}


def large_rows(megabytes: int) -> dict[str, int]:
    """Rows of each large table so that they fill their share of MEGABYTES."""
    return {name: max(100, int(share * megabytes * 1_000_000 / row_bytes))
            for name, (share, row_bytes) in _LARGE.items()}


def _small_tables() -> list[str]:
    sql = []
    for name, rows in _SMALL:
        sql.append(f"CREATE TABLE {name} (id integer PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, "
                   f"attributes jsonb NOT NULL DEFAULT '{{}}', updated_at timestamptz NOT NULL)")
        sql.append(f"INSERT INTO {name} SELECT i, '{name[:3]}-' || i, initcap(w.word) || ' ' || i, "
                   f"jsonb_build_object('rank', i % 17, 'active', i % 5 <> 0), now() - i * interval '1 hour' "
                   f"FROM generate_series(1, {rows}) i, LATERAL (SELECT (string_to_array('{_WORDS}', ' '))"
                   f"[1 + i % {len(_WORDS.split())}] AS word) w")
    return sql


def _pool() -> list[str]:
    # unlogged and in the schema (not TEMP): both loading sessions read it, and it is dropped at the end
    return ["CREATE UNLOGGED TABLE paragraph_pool AS SELECT p AS id, "
            # `s * 0` ties the aggregate to the inner series (one fresh word per s), not to the outer row
            "(SELECT string_agg(w[1 + floor(random() * array_length(w, 1))::int + s * 0], ' ') "
            " FROM generate_series(1, 40 + p % 80) s) AS body "
            f"FROM generate_series(0, 4999) p, LATERAL (SELECT string_to_array('{_WORDS}', ' ') AS w) words",
            "CREATE UNIQUE INDEX ON paragraph_pool (id)", "ANALYZE paragraph_pool"]


def _text(row: str) -> str:
    """A paragraph from the pool, made unique by the row's own number and a hash of it."""
    # bigint: an integer row number times 7919 overflows past 271,000 rows (events has that at about 260 MB)
    return f"(SELECT body FROM paragraph_pool WHERE id = ({row}::bigint * 7919) % 5000) || ' #' || {row} || ' ' || md5({row}::text)"


def _mid_tables(rows: dict[str, int]) -> list[str]:
    n = rows
    return [
        "CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL, plan_id integer NOT NULL REFERENCES plans, "
        "country_id integer NOT NULL REFERENCES countries, created_at timestamptz NOT NULL, settings jsonb NOT NULL)",
        f"INSERT INTO accounts SELECT i, 'Account ' || i, 1 + i % 12, 1 + i % 250, now() - i * interval '7 minutes', "
        f"jsonb_build_object('seats', i % 90, 'timezone', 'UTC', 'trial', i % 3 = 0) FROM generate_series(1, {n['accounts']}) i",
        "CREATE TABLE users (id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts, "
        "email text NOT NULL, full_name text NOT NULL, role_id integer NOT NULL REFERENCES roles, "
        "created_at timestamptz NOT NULL, last_seen_at timestamptz)",
        f"INSERT INTO users SELECT i, 1 + i % {n['accounts']}, 'user' || i || '@example.org', 'User ' || i, 1 + i % 20, "
        f"now() - i * interval '3 minutes', now() - (i % 1000) * interval '1 minute' FROM generate_series(1, {n['users']}) i",
        "CREATE UNIQUE INDEX users_email ON users (lower(email))",
        "CREATE TABLE projects (id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts, "
        "name text NOT NULL, description text NOT NULL, created_at timestamptz NOT NULL)",
        f"INSERT INTO projects SELECT i, 1 + i % {n['accounts']}, 'Project ' || i, {_text('i')}, "
        f"now() - i * interval '11 minutes' FROM generate_series(1, {n['projects']}) i",
        "CREATE TABLE tasks (id bigint PRIMARY KEY, project_id bigint NOT NULL REFERENCES projects, "
        "assignee_id bigint REFERENCES users, title text NOT NULL, status text NOT NULL, "
        "due_on date, created_at timestamptz NOT NULL)",
        f"INSERT INTO tasks SELECT i, 1 + i % {n['projects']}, CASE WHEN i % 4 = 0 THEN NULL ELSE 1 + i % {n['users']} END, "
        f"'Task ' || i || ' ' || md5(i::text), (ARRAY['open','doing','review','done'])[1 + i % 4], "
        f"current_date + (i % 90), now() - i * interval '1 minute' FROM generate_series(1, {n['tasks']}) i",
        "CREATE INDEX tasks_project_status ON tasks (project_id, status)",
        "CREATE TABLE task_tags (task_id bigint NOT NULL REFERENCES tasks, tag_id integer NOT NULL REFERENCES tags, "
        "PRIMARY KEY (task_id, tag_id))",
        f"INSERT INTO task_tags SELECT i, 1 + i % 500 FROM generate_series(1, {n['tasks']}) i",
        "CREATE TABLE products (id bigint PRIMARY KEY, category_id integer NOT NULL REFERENCES categories, "
        "supplier_id integer NOT NULL REFERENCES suppliers, sku text NOT NULL UNIQUE, name text NOT NULL, "
        "price numeric(12,2) NOT NULL, details jsonb NOT NULL)",
        f"INSERT INTO products SELECT i, 1 + i % 700, 1 + i % 1500, 'SKU-' || i, 'Product ' || i, (i % 9973) / 7.0, "
        f"jsonb_build_object('weight_g', i % 5000, 'colour', (ARRAY['red','green','blue','black'])[1 + i % 4], "
        f"'dimensions', jsonb_build_array(i % 40, i % 30, i % 20)) FROM generate_series(1, {n['products']}) i",
        "CREATE TABLE addresses (id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts, "
        "line1 text NOT NULL, city text NOT NULL, postcode text NOT NULL, country_id integer NOT NULL REFERENCES countries)",
        f"INSERT INTO addresses SELECT i, 1 + i % {n['accounts']}, i || ' Long Street', 'City ' || (i % 900), "
        f"lpad((i % 99999)::text, 5, '0'), 1 + i % 250 FROM generate_series(1, {n['addresses']}) i",
        "CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts, "
        "address_id bigint NOT NULL REFERENCES addresses, currency_id integer NOT NULL REFERENCES currencies, "
        "status text NOT NULL, placed_at timestamptz NOT NULL, total numeric(14,2) NOT NULL)",
        f"INSERT INTO orders SELECT i, 1 + i % {n['accounts']}, 1 + i % {n['addresses']}, 1 + i % 160, "
        f"(ARRAY['new','paid','shipped','cancelled'])[1 + i % 4], now() - i * interval '2 minutes', (i % 100000) / 3.0 "
        f"FROM generate_series(1, {n['orders']}) i",
        "CREATE INDEX orders_account_placed ON orders (account_id, placed_at)",
        "CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders, "
        "product_id bigint NOT NULL REFERENCES products, quantity integer NOT NULL, unit_price numeric(12,2) NOT NULL)",
        f"INSERT INTO order_items SELECT i, 1 + i % {n['orders']}, 1 + i % {n['products']}, 1 + i % 7, (i % 9973) / 7.0 "
        f"FROM generate_series(1, {n['order_items']}) i",
        "CREATE INDEX order_items_order ON order_items (order_id)",
        "CREATE TABLE invoices (id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts, "
        "number text NOT NULL UNIQUE, issued_on date NOT NULL, amount numeric(14,2) NOT NULL, lines jsonb NOT NULL)",
        f"INSERT INTO invoices SELECT i, 1 + i % {n['accounts']}, 'INV-' || lpad(i::text, 9, '0'), current_date - (i % 1000), "
        f"(i % 50000) / 3.0, jsonb_build_array(jsonb_build_object('sku', 'SKU-' || i, 'qty', i % 9)) "
        f"FROM generate_series(1, {n['invoices']}) i",
        "CREATE TABLE payments (id bigint PRIMARY KEY, invoice_id bigint NOT NULL REFERENCES invoices, "
        "paid_at timestamptz NOT NULL, amount numeric(14,2) NOT NULL, provider_ref text NOT NULL)",
        f"INSERT INTO payments SELECT i, 1 + i % {n['invoices']}, now() - i * interval '5 minutes', (i % 50000) / 3.0, "
        f"'pay_' || md5(i::text) FROM generate_series(1, {n['payments']}) i",
        "CREATE TABLE sessions (id uuid PRIMARY KEY, user_id bigint NOT NULL REFERENCES users, "
        "created_at timestamptz NOT NULL, expires_at timestamptz NOT NULL, user_agent text NOT NULL)",
        f"INSERT INTO sessions SELECT md5('s' || i)::uuid, 1 + i % {n['users']}, now() - i * interval '1 minute', "
        f"now() + interval '30 days', 'Mozilla/5.0 (X11; Linux x86_64) build ' || (i % 300) FROM generate_series(1, {n['sessions']}) i",
        "CREATE TABLE notifications (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users, "
        "kind text NOT NULL, payload jsonb NOT NULL, read_at timestamptz, created_at timestamptz NOT NULL)",
        f"INSERT INTO notifications SELECT i, 1 + i % {n['users']}, (ARRAY['mention','due','invoice'])[1 + i % 3], "
        f"jsonb_build_object('task', i % 10000, 'note', 'Task ' || i || ' needs attention'), "
        f"CASE WHEN i % 3 = 0 THEN now() END, now() - i * interval '1 minute' FROM generate_series(1, {n['notifications']}) i",
    ]


# The large tables' foreign keys, added once their data is in: one join per key instead of a trigger per row.
_LARGE_KEYS = {"events": (("account_id", "accounts"), ("user_id", "users")),
               "comments": (("task_id", "tasks"), ("author_id", "users")),
               "audit_log": (("actor_id", "users"),), "webhook_deliveries": (("webhook_id", "webhooks"),)}


def _large_tables(rows: dict[str, int], mid: dict[str, int]) -> dict[str, list[str]]:
    """Each large table's statements (create, load, index), independent of the others: run in parallel."""
    n = rows
    return {
        "events": [
            "CREATE TABLE events (id bigint PRIMARY KEY, account_id bigint NOT NULL, "
            "user_id bigint, name text NOT NULL, properties jsonb NOT NULL, occurred_at timestamptz NOT NULL)",
            f"INSERT INTO events SELECT i, 1 + i % {mid['accounts']}, 1 + i % {mid['users']}, "
            f"(ARRAY['page_view','click','signup','purchase','search','export'])[1 + i % 6], "
            f"jsonb_build_object('path', '/projects/' || (i % 5000) || '/tasks', 'referrer', 'https://example.org/' || (i % 313), "
            f"'duration_ms', i % 9000, 'query', substr({_text('i')}, 1, 80)), now() - i * interval '1 second' "
            f"FROM generate_series(1, {n['events']}) i",
            "CREATE INDEX events_account_time ON events (account_id, occurred_at)",
            "CREATE INDEX events_properties ON events USING gin (properties jsonb_path_ops)"],
        "comments": [
            "CREATE TABLE comments (id bigint PRIMARY KEY, task_id bigint NOT NULL, "
            "author_id bigint NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL, edited_at timestamptz)",
            f"INSERT INTO comments SELECT i, 1 + i % {mid['tasks']}, 1 + i % {mid['users']}, {_text('i')}, "
            f"now() - i * interval '2 seconds', CASE WHEN i % 10 = 0 THEN now() END FROM generate_series(1, {n['comments']}) i",
            "CREATE INDEX comments_task_time ON comments (task_id, created_at)"],
        "audit_log": [
            "CREATE TABLE audit_log (id bigint PRIMARY KEY, actor_id bigint, action text NOT NULL, "
            "target text NOT NULL, detail text NOT NULL, at timestamptz NOT NULL)",
            f"INSERT INTO audit_log SELECT i, 1 + i % {mid['users']}, (ARRAY['create','update','delete','login'])[1 + i % 4], "
            f"'task:' || (i % 100000), substr({_text('i')}, 1, 200), now() - i * interval '3 seconds' "
            f"FROM generate_series(1, {n['audit_log']}) i",
            "CREATE INDEX audit_log_actor_at ON audit_log (actor_id, at)"],
        "webhook_deliveries": [
            "CREATE TABLE webhook_deliveries (id bigint PRIMARY KEY, webhook_id integer NOT NULL, "
            "request jsonb NOT NULL, response_body text NOT NULL, status integer NOT NULL, delivered_at timestamptz NOT NULL)",
            f"INSERT INTO webhook_deliveries SELECT i, 1 + i % 120, jsonb_build_object('event', 'order.paid', 'order_id', i, "
            f"'lines', jsonb_build_array(jsonb_build_object('sku', 'SKU-' || (i % 900), 'qty', i % 5)), 'note', {_text('i')}), "
            f"'{{\"ok\": true, \"id\": \"' || md5(i::text) || '\"}}', (ARRAY[200,200,200,500])[1 + i % 4], "
            f"now() - i * interval '4 seconds' FROM generate_series(1, {n['webhook_deliveries']}) i",
            "CREATE INDEX webhook_deliveries_time ON webhook_deliveries (delivered_at)"],
    }


def _foreign_keys() -> list[str]:
    return [f"ALTER TABLE {table} ADD FOREIGN KEY ({column}) REFERENCES {target}"
            for table, keys in _LARGE_KEYS.items() for column, target in keys]


# The large tables split over two sessions of about equal work (the machine has 2 cores; one backend
# uses one): events alone (jsonb and its GIN index: 4.9 s of the 8.3 s the four took at 200 MB), the rest.
SESSIONS = (("events",), ("comments", "audit_log", "webhook_deliveries"))


def phases(megabytes: int) -> list[list[list[str]]]:
    """The whole schema and its data at about MEGABYTES on disk, as phases run in order; each phase is a
    list of scripts (statement lists) that may run at once in separate sessions of the database."""
    if megabytes < 1:
        raise ValueError("megabytes must be at least 1")
    mid = _mid_rows(megabytes)
    large = _large_tables(large_rows(megabytes), mid)
    into = f"SET search_path = {SCHEMA}"
    return [[[f"CREATE SCHEMA {SCHEMA}", into, *_small_tables(), *_pool(), *_mid_tables(mid)]],
            [[into, *(sql for name in session for sql in large[name])] for session in SESSIONS],
            [[into, *_foreign_keys(), "DROP TABLE paragraph_pool", "RESET search_path", "ANALYZE"]]]


def statements(megabytes: int) -> list[str]:
    """The same, in one session: every phase's scripts one after another."""
    return [sql for phase in phases(megabytes) for script in phase for sql in script]


def drop() -> str:
    return f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"


def table_names() -> list[str]:
    """Every table the generator makes (the pool is dropped at the end), in creation order."""
    return [name for name, _ in _SMALL] + list(_mid_rows(1)) + ["task_tags"] + list(_LARGE)
