"""complaint_search: full-text index over complaints, kept current by triggers

SQLite: an FTS5 table (rowid = complaint id).
PostgreSQL: a tsvector side table with a GIN index, and the set of words it has
indexed (for typo correction). Both are filled from the existing rows here.
See models/search_index.py for what each object holds.

The status, owner, category, severity and the UTC day and month it was logged are
indexed too, one token each (see models/search_index.py), so that words and filters
meet inside the index.

Both tokenise the same way on purpose: words are runs of letters and digits, case
folded, no stemming and no stop words (PostgreSQL's `simple` configuration after
punctuation becomes spaces, like FTS5's unicode61), so a search finds the same
complaints on either database and a corrected word is a real word someone wrote.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 09:00:00
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The complaint's columns the index holds: a change to any of them updates its entry.
COMPLAINT_COLUMNS = (
    "description, customer_name, customer_contact, resolution, status, owner_id, category, severity, created_at"
)

# ----- SQLite ------------------------------------------------------------------------------
SQLITE_NOTES = (
    "coalesce((SELECT group_concat(e.note, ' ') FROM complaint_event e "
    "WHERE e.complaint_id = {id} AND e.note <> ''), '')"
)
# One token per filter value, e.g. `0statusopen`, `0categorygiftcards` (FACET in models/search_index.py).
SQLITE_FACETS = (
    "'0status' || {row}.status || ' 0owner' || {row}.owner_id"
    " || ' 0category' || replace(replace({row}.category, '-', ''), '_', '') || ' 0severity' || {row}.severity"
    # The UTC day and month it was logged (stored as UTC text, 'YYYY-MM-DD HH:MM:SS...').
    " || ' 0day' || replace(substr({row}.created_at, 1, 10), '-', '') || ' 0month' || replace(substr({row}.created_at, 1, 7), '-', '')"
)
SQLITE_UPGRADE = [
    # remove_diacritics 0: PostgreSQL's `simple` configuration keeps accents too.
    "CREATE VIRTUAL TABLE complaint_search USING fts5("
    "description, customer, resolution, notes, facets, tokenize = 'unicode61 remove_diacritics 0')",
    # The notes of events written before their complaint (an import) are picked up too.
    f"""CREATE TRIGGER complaint_search_insert AFTER INSERT ON complaint BEGIN
        INSERT INTO complaint_search (rowid, description, customer, resolution, notes, facets)
        VALUES (new.id, new.description, new.customer_name || ' ' || new.customer_contact, new.resolution,
                {SQLITE_NOTES.format(id='new.id')}, {SQLITE_FACETS.format(row='new')});
    END""",
    # Every change to a complaint updates its row (updated_at alone does not fire this).
    f"""CREATE TRIGGER complaint_search_update AFTER UPDATE OF {COMPLAINT_COLUMNS} ON complaint
    WHEN {" OR ".join(f"old.{c} IS NOT new.{c}" for c in COMPLAINT_COLUMNS.split(", "))}
    BEGIN
        UPDATE complaint_search SET description = new.description,
            customer = new.customer_name || ' ' || new.customer_contact, resolution = new.resolution,
            facets = {SQLITE_FACETS.format(row='new')}
        WHERE rowid = new.id;
    END""",
    """CREATE TRIGGER complaint_search_delete AFTER DELETE ON complaint BEGIN
        DELETE FROM complaint_search WHERE rowid = old.id;
    END""",
    # A new note adds its words; an edited or deleted one rebuilds that complaint's notes.
    """CREATE TRIGGER complaint_search_event_insert AFTER INSERT ON complaint_event WHEN new.note <> '' BEGIN
        UPDATE complaint_search SET notes = notes || ' ' || new.note WHERE rowid = new.complaint_id;
    END""",
    f"""CREATE TRIGGER complaint_search_event_update AFTER UPDATE OF note, complaint_id ON complaint_event BEGIN
        UPDATE complaint_search SET notes = {SQLITE_NOTES.format(id='old.complaint_id')} WHERE rowid = old.complaint_id;
        UPDATE complaint_search SET notes = {SQLITE_NOTES.format(id='new.complaint_id')} WHERE rowid = new.complaint_id;
    END""",
    f"""CREATE TRIGGER complaint_search_event_delete AFTER DELETE ON complaint_event BEGIN
        UPDATE complaint_search SET notes = {SQLITE_NOTES.format(id='old.complaint_id')} WHERE rowid = old.complaint_id;
    END""",
    f"""INSERT INTO complaint_search (rowid, description, customer, resolution, notes, facets)
    SELECT c.id, c.description, c.customer_name || ' ' || c.customer_contact, c.resolution, coalesce(n.notes, ''),
        {SQLITE_FACETS.format(row='c')}
    FROM complaint c LEFT JOIN (
        SELECT complaint_id, group_concat(note, ' ') AS notes FROM complaint_event WHERE note <> '' GROUP BY complaint_id
    ) n ON n.complaint_id = c.id""",
    # One merged index after a large backfill reads faster than many small segments.
    "INSERT INTO complaint_search (complaint_search) VALUES ('optimize')",
]
SQLITE_DOWNGRADE = [
    *(f"DROP TRIGGER complaint_search_{name}" for name in ("insert", "update", "delete", "event_insert",
                                                             "event_update", "event_delete")),
    "DROP TABLE complaint_search",
]

# ----- PostgreSQL --------------------------------------------------------------------------
POSTGRES_NOTES = "(SELECT string_agg(e.note, ' ') FROM complaint_event e WHERE e.complaint_id = c.id AND e.note <> '')"
POSTGRES_UPGRADE = [
    """CREATE TABLE complaint_search (
        complaint_id integer PRIMARY KEY REFERENCES complaint (id) ON DELETE CASCADE,
        document tsvector NOT NULL
    )""",
    # Byte order (COLLATE "C"), so the words starting with a letter are one index range.
    'CREATE TABLE complaint_search_term (term text COLLATE "C" PRIMARY KEY)',
    """CREATE FUNCTION complaint_search_words(body text, weight "char") RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT setweight(to_tsvector('simple', regexp_replace(coalesce(body, ''), '[[:punct:]]+', ' ', 'g')), weight)
    $$""",
    # Filter values are lexemes as they are (no parser), weighted D, which ranks nothing.
    """CREATE FUNCTION complaint_search_document(c complaint, notes text) RETURNS tsvector
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT complaint_search_words(c.description, 'A')
            || complaint_search_words(c.customer_name || ' ' || c.customer_contact, 'B')
            || complaint_search_words(c.resolution || ' ' || coalesce(notes, ''), 'C')
            || setweight(array_to_tsvector(ARRAY[
                '0status' || lower(c.status), '0owner' || lower(c.owner_id),
                '0category' || lower(translate(c.category, '-_', '')), '0severity' || lower(c.severity),
                '0day' || to_char(c.created_at AT TIME ZONE 'UTC', 'YYYYMMDD'),
                '0month' || to_char(c.created_at AT TIME ZONE 'UTC', 'YYYYMM')
            ]), 'D')
    $$""",
    f"""CREATE FUNCTION complaint_search_refresh(target integer) RETURNS void LANGUAGE sql AS $$
        INSERT INTO complaint_search (complaint_id, document)
        SELECT c.id, complaint_search_document(c, {POSTGRES_NOTES})
        FROM complaint c WHERE c.id = target
        ON CONFLICT (complaint_id) DO UPDATE SET document = excluded.document
    $$""",
    """CREATE FUNCTION complaint_search_on_complaint() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM complaint_search_refresh(NEW.id);
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION complaint_search_on_event() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE complaint_search SET document = document || complaint_search_words(NEW.note, 'C')
            WHERE complaint_id = NEW.complaint_id;
            RETURN NULL;
        END IF;
        PERFORM complaint_search_refresh(OLD.complaint_id);
        IF TG_OP = 'UPDATE' AND NEW.complaint_id <> OLD.complaint_id THEN
            PERFORM complaint_search_refresh(NEW.complaint_id);
        END IF;
        RETURN NULL;
    END $$""",
    # Words new to this document join the vocabulary. In sorted order, so two
    # transactions adding the same new words wait for each other instead of deadlocking.
    """CREATE FUNCTION complaint_search_on_document() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO complaint_search_term (term)
        SELECT term FROM (
            SELECT unnest(tsvector_to_array(NEW.document))
            EXCEPT SELECT unnest(tsvector_to_array(OLD.document))
        ) AS fresh (term)
        WHERE length(term) BETWEEN 3 AND 40 AND term !~ '[0-9]'
        ORDER BY term
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$""",
    # The triggers come before the backfill: creating them locks both tables until this
    # migration commits, so no complaint written meanwhile can be missed.
    "CREATE TRIGGER complaint_search_insert AFTER INSERT ON complaint "
    "FOR EACH ROW EXECUTE FUNCTION complaint_search_on_complaint()",
    f"""CREATE TRIGGER complaint_search_update AFTER UPDATE OF {COMPLAINT_COLUMNS} ON complaint FOR EACH ROW
    WHEN ({" OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in COMPLAINT_COLUMNS.split(", "))})
    EXECUTE FUNCTION complaint_search_on_complaint()""",
    "CREATE TRIGGER complaint_search_event_insert AFTER INSERT ON complaint_event "
    "FOR EACH ROW WHEN (NEW.note <> '') EXECUTE FUNCTION complaint_search_on_event()",
    "CREATE TRIGGER complaint_search_event_change AFTER UPDATE OF note, complaint_id OR DELETE ON complaint_event "
    "FOR EACH ROW EXECUTE FUNCTION complaint_search_on_event()",
    """INSERT INTO complaint_search (complaint_id, document)
    SELECT c.id, complaint_search_document(c, n.notes)
    FROM complaint c LEFT JOIN (
        SELECT complaint_id, string_agg(note, ' ') AS notes FROM complaint_event WHERE note <> '' GROUP BY complaint_id
    ) n ON n.complaint_id = c.id""",
    """INSERT INTO complaint_search_term (term)
    SELECT DISTINCT term FROM complaint_search, unnest(tsvector_to_array(document)) AS term
    WHERE length(term) BETWEEN 3 AND 40 AND term !~ '[0-9]'""",
    # Built once after the backfill: faster than growing it row by row.
    "CREATE INDEX ix_complaint_search_document ON complaint_search USING gin (document)",
    "CREATE TRIGGER complaint_search_terms AFTER INSERT OR UPDATE OF document ON complaint_search "
    "FOR EACH ROW EXECUTE FUNCTION complaint_search_on_document()",
    "ANALYZE complaint_search",
]
POSTGRES_DOWNGRADE = [
    "DROP TRIGGER complaint_search_event_change ON complaint_event",
    "DROP TRIGGER complaint_search_event_insert ON complaint_event",
    "DROP TRIGGER complaint_search_update ON complaint",
    "DROP TRIGGER complaint_search_insert ON complaint",
    "DROP TABLE complaint_search_term",
    "DROP TABLE complaint_search",
    "DROP FUNCTION complaint_search_on_document()",
    "DROP FUNCTION complaint_search_on_event()",
    "DROP FUNCTION complaint_search_on_complaint()",
    "DROP FUNCTION complaint_search_refresh(integer)",
    "DROP FUNCTION complaint_search_document(complaint, text)",
    'DROP FUNCTION complaint_search_words(text, "char")',
]


def _run(statements: dict[str, list[str]]) -> None:
    for statement in statements[op.get_bind().dialect.name]:
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRES_UPGRADE})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRES_DOWNGRADE})
