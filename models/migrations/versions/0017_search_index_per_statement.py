"""complaint_search on PostgreSQL: new complaints indexed once per statement, not per row

0008's row triggers ran two PL/pgSQL calls and three planned statements for every
complaint logged, three quarters of the server's work on the hot path. A batch of new
complaints (the group commit's one statement) is now indexed by one statement over its
transition table, and the words its documents bring join the vocabulary the same way.
Changes to existing rows keep 0008's row triggers. SQLite's FTS5 triggers are unchanged.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 13:30:00
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0017'
down_revision: Union[str, Sequence[str], None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# As 0008's complaint_search_refresh, for every row the statement inserted.
UPGRADE = [
    "DROP TRIGGER complaint_search_insert ON complaint",
    """CREATE FUNCTION complaint_search_on_complaints_logged() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO complaint_search (complaint_id, document)
        SELECT c.id, complaint_search_document(c.*::complaint,
            (SELECT string_agg(e.note, ' ') FROM complaint_event e WHERE e.complaint_id = c.id AND e.note <> ''))
        FROM logged c
        ON CONFLICT (complaint_id) DO UPDATE SET document = excluded.document;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER complaint_search_insert AFTER INSERT ON complaint REFERENCING NEW TABLE AS logged "
    "FOR EACH STATEMENT EXECUTE FUNCTION complaint_search_on_complaints_logged()",
    "DROP TRIGGER complaint_search_terms ON complaint_search",
    # In sorted order, as 0008's, so two statements adding the same words do not deadlock.
    """CREATE FUNCTION complaint_search_on_documents_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO complaint_search_term (term)
        SELECT DISTINCT term FROM added, unnest(tsvector_to_array(added.document)) AS term
        WHERE length(term) BETWEEN 3 AND 40 AND term !~ '[0-9]'
        ORDER BY term
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER complaint_search_terms_added AFTER INSERT ON complaint_search REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION complaint_search_on_documents_added()",
    "CREATE TRIGGER complaint_search_terms AFTER UPDATE OF document ON complaint_search "
    "FOR EACH ROW EXECUTE FUNCTION complaint_search_on_document()",
]
DOWNGRADE = [
    "DROP TRIGGER complaint_search_terms ON complaint_search",
    "DROP TRIGGER complaint_search_terms_added ON complaint_search",
    "DROP FUNCTION complaint_search_on_documents_added()",
    "CREATE TRIGGER complaint_search_terms AFTER INSERT OR UPDATE OF document ON complaint_search "
    "FOR EACH ROW EXECUTE FUNCTION complaint_search_on_document()",
    "DROP TRIGGER complaint_search_insert ON complaint",
    "DROP FUNCTION complaint_search_on_complaints_logged()",
    "CREATE TRIGGER complaint_search_insert AFTER INSERT ON complaint "
    "FOR EACH ROW EXECUTE FUNCTION complaint_search_on_complaint()",
]


def _run(statements: list[str]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in statements:
            op.execute(statement)


def upgrade() -> None:
    _run(UPGRADE)


def downgrade() -> None:
    _run(DOWNGRADE)
