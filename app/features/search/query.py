"""Search queries as people type them, run as PostgreSQL full-text search over one user's notes.

The syntax: words (a note must have all of them), `"a phrase"` (those words in that
order), `-word` or `-"a phrase"` (notes without it) and `word*` (any word starting so).
Everything else a query holds is text: it only ever reaches PostgreSQL as a bound
parameter of to_tsvector(), never as tsquery syntax, so no query is a syntax error.

PostgreSQL normalizes the words exactly as it did the notes', and tsquery.py writes the
tsquery from those lexemes (`메모` finds `메모를`). The search index's keys are the lexemes
with their owner's id in front (migration 0011): the query of the index names the searching
user's id the same way, so it reads that user's entries only. This module runs the search:
its budget, the candidates, the ranked page and its excerpts.
"""

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import REAL, bindparam, cast, func, literal, select, text, tuple_
from sqlalchemy.dialects.postgresql import REGCONFIG, TSQUERY
from sqlalchemy.exc import OperationalError

from app.errors import Refused
from app.extensions import db
from app.features.search.excerpts import HEADLINE_OPTIONS, excerpt, highlighted, marks_removed
from app.features.search.terms import SearchRefused, parse, split_tags  # noqa: F401
from app.features.search.tsquery import CONFIG, TextQuery, normalize  # noqa: F401
from app.markdown import plain_text
from app.models import Note
from app.models.notes import EDITED_AFTER

# The characters of a note's content that search reads (migration 0017's
# note_search_prefix(), which cuts before a word the limit would split): words past them
# are neither found nor highlighted, and the database stays within 3x its text.
SEARCHED_CHARACTERS = 10_000
MAX_QUERY_LENGTH = 200
MAX_PAGE = 500  # 10,000 results deep is far enough; a bigger OFFSET is refused
# The most matches one search ranks: past it, the newest this many are ranked, and the
# page says "more than". Ranking reads each match's stored vector from the table.
MAX_RANKED = 1000
# A search whose statement runs longer is cancelled and the user told to narrow it.
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cancelled by its timeout
# Searches one user may have running at once (transaction-level advisory locks); the
# class ids are this project's own, beside the release phase's single bigint key.
SEARCH_LOCK_CLASS = 2301
TOO_BROAD = _l("This search is too broad to answer quickly; add a word to narrow it.")
BUSY = _l("You have searches still running; try again in a moment.")
# A search lasts at most SEARCH_TIMEOUT_MS; one of the user's ends by then.
BUSY_RETRY_AFTER_SECONDS = 2
# One statement: the time limit for the rest of the transaction, no parallel workers (a
# search is one process's work: parallel ones made a common word's search on 1M notes
# slower on 2 cores, 92 ms against 70, and would multiply what one user's searches take),
# and the first free slot (the LIMIT stops at the first lock taken, so a search holds one
# slot, never two).
TAKE_BUDGET = text(
    "SELECT set_config('statement_timeout', :milliseconds, true),"
    " set_config('max_parallel_workers_per_gather', '0', true),"
    " (SELECT slot FROM generate_series(0, :slots - 1) AS slot"
    "  WHERE pg_try_advisory_xact_lock(:class_id + slot, :object_id) LIMIT 1)"
)


class SearchTooBroad(SearchRefused):
    """A search that ran out of its time; the message asks for a narrower one."""


class SearchBusy(Refused):
    """The user has as many searches running as allowed: 429, until one of them ends."""


def headline(text):
    """Return SQL for a text with every match of the plain query marked."""
    plain = cast(bindparam("plain"), TSQUERY)
    return func.ts_headline(
        cast(literal(CONFIG), REGCONFIG), marks_removed(text), plain, HEADLINE_OPTIONS
    )


def candidates(keys_suffice, plain):
    """Return the newest MAX_RANKED + 1 matches of the query's words, as a subquery."""
    keys = cast(bindparam("keys"), TSQUERY)
    found = func.note_search_keys(Note.user_id, Note.search_vector).bool_op("@@")(keys)
    if not keys_suffice:
        found &= Note.search_vector.bool_op("@@")(plain)
    # The index finds the notes with all the user's words (each key names the user); the
    # stored vector then checks phrases and exclusions, when there are some: reading it
    # for every candidate is most of what a broad query costs (every one of 7,500 long
    # notes' vectors, for a word in all of them). The owner is checked again below,
    # on the page's rows: here the planner would read the user's whole list from the
    # user_id index to check it. Only the newest MAX_RANKED + 1 matches go on to be
    # ranked ("id + 0": ordering by the bare id would let the planner walk the primary
    # key backwards and test every note of every user instead of asking the index).
    return (
        select(
            Note.id,
            Note.user_id,
            Note.title,
            Note.content,
            Note.created_at,
            Note.updated_at,
            Note.completed,
            Note.search_vector,
        )
        .where(
            found,
            Note.deleted_at.is_(None),
            # Archived notes only when asked for; `tags @> '{}'` holds for every note.
            Note.archived_at.is_(None) | bindparam("with_archived"),
            Note.tags.contains(bindparam("tags", type_=Note.tags.type)),
        )
        .order_by((Note.id + 0).desc())
        .limit(MAX_RANKED + 1)
        .subquery()
    )


def results_query(keys_suffice, keyset):
    """Return the statement for one page of matches, best first, built once per process.

    `keys_suffice`: the query's index keys decide a match alone (TextQuery.keys_suffice).
    `keyset`: the page starts after a position (rank, created_at, id), else at an OFFSET.
    """
    plain = cast(bindparam("plain"), TSQUERY)
    matches = candidates(keys_suffice, plain)
    rank = func.ts_rank(matches.c.search_vector, plain)
    ranked = select(
        matches.c.id,
        matches.c.user_id,
        matches.c.title,
        matches.c.content,
        matches.c.created_at,
        matches.c.updated_at,
        matches.c.completed,
        rank.label("rank"),
        # All the matches, counted before a page's position leaves some out.
        func.count().over().label("total"),
    ).subquery()
    best = select(ranked)
    if keyset:
        # ts_rank is a real: the cursor's value is compared as one, exactly as it was read.
        after = tuple_(cast(bindparam("rank"), REAL), bindparam("created_at"), bindparam("id"))
        best = best.where(tuple_(ranked.c.rank, ranked.c.created_at, ranked.c.id) < after)
    best = (
        best.order_by(ranked.c.rank.desc(), ranked.c.created_at.desc(), ranked.c.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .subquery()
    )
    # Highlights are made for the page's notes only, after the ranking picked them, and
    # in the searched prefix of the content only: no match lies further on.
    return (
        select(
            best.c.id,
            best.c.created_at,
            best.c.updated_at,
            best.c.completed,
            best.c.total,
            best.c.rank,
            headline(best.c.title).label("title"),
            headline(func.note_search_prefix(best.c.content)).label("content"),
            (func.char_length(best.c.content) > SEARCHED_CHARACTERS).label("cut"),
        )
        .where(best.c.user_id == bindparam("user_id"))
        .order_by(best.c.rank.desc(), best.c.created_at.desc(), best.c.id.desc())
    )


RESULTS = {
    (keys_suffice, keyset): results_query(keys_suffice, keyset)
    for keys_suffice in (True, False)
    for keyset in (True, False)
}


@dataclass
class Match:
    """A note that matched, with its title and a snippet highlighted as HTML."""

    id: int
    title: Markup
    snippet: Markup
    created_at: object
    completed: bool
    updated_at: object = None  # its last edit: what the hit shows, as the list does
    rank: float = 0.0  # how well it matches: with created_at and id, its place (a cursor)

    @property
    def edited(self):
        """Return whether the note was saved again after it was written (as Note.edited)."""
        return self.updated_at - self.created_at >= EDITED_AFTER


@dataclass
class SearchResults:
    """One page of a search: its matches, how many there are in all, and where it stands."""

    query: TextQuery
    items: list
    total: int
    page: int
    has_next: bool
    more_than_total: bool = False  # past MAX_RANKED matches: the newest that many are ranked


def take_budget(user_id, config):
    """Limit this transaction's statements' time and hold one of the user's search slots.

    Raises SearchBusy when every slot is held (by the user's searches still running).
    """
    _, _, slot = db.session.execute(
        TAKE_BUDGET,
        {
            "milliseconds": str(config["SEARCH_TIMEOUT_MS"]),
            "slots": config["SEARCHES_IN_FLIGHT_PER_USER"],
            "class_id": SEARCH_LOCK_CLASS,
            "object_id": user_id & 0x7FFFFFFF,
        },
    ).one()
    if slot is None:
        raise SearchBusy(BUSY, 429, retry_after=BUSY_RETRY_AFTER_SECONDS)


def cancelled_by_timeout(error):
    """Return whether a database error is a statement cancelled by its timeout."""
    return getattr(error.orig, "pgcode", None) == QUERY_CANCELED


def search_notes(user_id, typed, page, per_page, tags=(), with_archived=False, after=None):
    """Return page `page` of `user_id`'s notes matching the query `typed`, best first: those
    with all of `tags`, and the archived ones too `with_archived`. With `after`, a match's
    place (rank, created_at, id), the page is the matches after it instead (the API's keyset
    paging: notes written or changed meanwhile do not shift it).

    Raises SearchRefused (the query breaks the prefix rules), SearchBusy (the user has too
    many searches running) or SearchTooBroad (the search ran out of its time).
    """
    terms = parse(typed)
    take_budget(user_id, current_app.config)
    try:
        return run_search(user_id, normalize(terms), page, per_page, tags, with_archived, after)
    except OperationalError as error:
        if not cancelled_by_timeout(error):
            raise
        db.session.rollback()
        raise SearchTooBroad(TOO_BROAD) from None


def run_search(user_id, query, page, per_page, tags=(), with_archived=False, after=None):
    """Return one page of the notes matching a normalized query (see search_notes)."""
    if not query.looks_for_something:
        return SearchResults(query, [], 0, page, False)
    values = {
        "user_id": user_id,
        "keys": query.keys(user_id),
        "plain": query.tsquery(),
        "limit": per_page + 1,
        "offset": 0 if after else (page - 1) * per_page,
        "tags": list(tags),
        "with_archived": with_archived,
    }
    if after:
        values["rank"], values["created_at"], values["id"] = after
    rows = db.session.execute(RESULTS[query.keys_suffice, bool(after)], values).all()
    items = [
        Match(
            row.id,
            highlighted(row.title),
            highlighted(excerpt(row.content, row.cut, plain_text)),
            row.created_at,
            row.completed,
            row.updated_at,
            row.rank,
        )
        for row in rows[:per_page]
    ]
    total = rows[0].total if rows else 0
    return SearchResults(
        query, items, min(total, MAX_RANKED), page, len(rows) > per_page, total > MAX_RANKED
    )
