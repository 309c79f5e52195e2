"""Renames across an account's notes: a tag renamed or merged (`#회의` → `#모임` in every note
that has it, a particle after it kept), and the `[[Old title]]` links moved to a note's new
title. Each changed note is a new version through the writer (service.change(): history,
revision, event); the rename is one act against the write rate, and all or nothing: its
notes change in one transaction, under the account's lock (its saves wait for it).

A rename of up to INLINE_NOTES notes runs in the request; a larger one runs in the worker,
in the account's lane (tasks.py), its state a NoteRename row that /tags shows live. A rename
of more than RENAME_NOTES notes is refused (docs/security.md).
"""

from flask_babel import gettext
from sqlalchemy import func, select

from app import errors
from app.extensions import db
from app.features.notes import links, service
from app.features.notes.quota import QuotaFull, check_bytes, text_bytes, usage
from app.models import Note, NoteLink, NoteRename, lock_user, utcnow
from app.models.base import CONTENT_MAX_LENGTH, TITLE_MAX_LENGTH
from app.tags import HANGUL, SHARED_ENDINGS, TAG, TAG_MAX_LENGTH, cut, fold, stem_of, tag_name
from app.throttle import spend_note_write
from app.wikilinks import WIKILINK, target_of
from app.wikilinks import fold as fold_title

INLINE_NOTES = 100  # at most this many notes change in the request; more in the worker
RENAME_NOTES = 10_000  # a rename changes at most this many notes


class Refused(errors.Refused):
    """A rename that cannot be made; its message says why (nothing changed)."""


def tag_of(word, stems):
    """Return the tag a `#word` of a note is (app/tags.py's rule), `stems` its note's tags
    before the shared endings are cut."""
    tag = stem_of(fold(word.strip("-_")))
    shared = cut(tag, SHARED_ENDINGS)
    return shared if shared in stems else tag


# A particle's two forms, after a final consonant and after a vowel (the longest first).
PARTICLE_FORMS = (
    ("으로는", "로는"),
    ("으로", "로"),
    ("이랑", "랑"),
    ("이나", "나"),
    ("은", "는"),
    ("을", "를"),
    ("과", "와"),
    ("이", "가"),
)
RIEUL = 8  # ㄹ, the final consonant that takes 로 as a vowel does


def fit_particle(tag, rest):
    """Return `rest` (what followed a tag) with a particle that fits the sound `tag` ends
    with: `#회의는` renamed to 모임 is `#모임은`."""
    last = ord(tag[-1]) - HANGUL.start
    if last not in range(len(HANGUL)):
        return rest
    final = last % 28
    for after_consonant, after_vowel in PARTICLE_FORMS:
        for form in (after_consonant, after_vowel):
            if rest.startswith(form):
                vowel_like = final == 0 or (final == RIEUL and after_vowel.startswith("로"))
                return (after_vowel if vowel_like else after_consonant) + rest[len(form) :]
    return rest


def rewrite_tag(text, old, new, stems):
    """Return `text` with each `#word` that is the tag `old` written as `#new`, the particle
    after it kept and fitted to the new sound (`#회의에서` → `#모임에서`, `#회의는` → `#모임은`)."""

    def swap(match):
        word = match[1]
        if tag_of(word, stems) != old:
            return match[0]
        for end in range(len(word), 0, -1):  # the longest start that is the tag
            if fold(word[:end].strip("-_")) == old:
                return f"#{new}{fit_particle(new, word[end:])}"
        return match[0]

    return TAG.sub(swap, text)


def written_stems(title, content):
    """Return the stems of every `#word` of a note, as note_tags() reads them."""
    return {stem_of(fold(word.strip("-_"))) for word in TAG.findall(title or "")} | {
        stem_of(fold(word.strip("-_"))) for word in TAG.findall(content or "")
    }


def retitle(text, key, title):
    """Return `text` with each `[[…]]` link naming the title `key` naming `title` instead."""

    def swap(match):
        target = target_of(match[1])
        if target is None or target.key != key:
            return match[0]
        return f"[[{title}|{match[2]}]]" if match[2] else f"[[{title}]]"

    return WIKILINK.sub(swap, text)


def tag_names(old, new):
    """Return the tags `old` and `new` name, or refuse a pair that cannot be renamed."""
    old_tag, new_tag = tag_name(old), tag_name(new)
    if not old_tag or not new_tag or len(new_tag) > TAG_MAX_LENGTH:
        raise Refused(gettext("A tag is letters, digits, - and _, 64 at most."), 422)
    if new_tag != fold(new.strip().removeprefix("#")):
        raise Refused(gettext("Write the new tag without a particle after it."), 422)
    if old_tag == new_tag:
        raise Refused(gettext("The new name is the tag's name already."), 422)
    return old_tag, new_tag


def link_title(title):
    """Refuse a title that a `[[…]]` link cannot name."""
    if WIKILINK.fullmatch(f"[[{title}]]") is None or target_of(title) is None:
        message = gettext("Links cannot name this title: it holds [, ], | or a line break.")
        raise Refused(message, 422)


def notes_of(user_id, kind, name):
    """Return the statement of the account's notes a rename of `name` changes."""
    if kind == "tag":
        return select(Note).where(Note.user_id == user_id, Note.tags.contains([name]))
    linking = select(NoteLink.from_note_id).where(
        NoteLink.user_id == user_id, NoteLink.title_key == fold_title(name)
    )
    return select(Note).where(Note.user_id == user_id, Note.id.in_(linking))


def rewritten(note, kind, old, new):
    """Return the note's (title, content) after the rename, or refuse one that would not fit."""
    if kind == "tag":
        stems = written_stems(note.title, note.content)
        title, content = (rewrite_tag(text, old, new, stems) for text in (note.title, note.content))
    else:
        title, content = note.title, retitle(note.content, fold_title(old), new)
    if len(title) > TITLE_MAX_LENGTH or len(content) > CONTENT_MAX_LENGTH:
        message = gettext("“%(title)s” would grow past what a note holds.", title=note.title)
        raise Refused(message, 422)
    return title, content


def apply(user_id, kind, old, new):
    """Rename in every note of the account that has `old` (under its lock, the notes read
    after it); return how many changed. Raise Refused before anything is written."""
    lock_user(user_id)
    notes = db.session.scalars(notes_of(user_id, kind, old).order_by(Note.id)).all()
    if len(notes) > RENAME_NOTES:
        raise Refused(gettext("A rename changes %(count)s notes at most.", count=RENAME_NOTES), 422)
    texts = [(note, *rewritten(note, kind, old, new)) for note in notes]
    _, used = usage(user_id)  # once: each old text goes to the history, each new one in
    try:
        check_bytes(user_id, used + sum(text_bytes(title, content) for _, title, content in texts))
    except QuotaFull as full:
        raise Refused(str(full), 422) from None
    changed = 0
    for note, title, content in texts:
        found = service.change(
            user_id, note, always=True, counted=False, roomy=True, title=title, content=content
        )
        changed += bool(found)
    return changed


def count_of(user_id, kind, name):
    """Return how many notes of the account a rename of `name` would change."""
    ids = notes_of(user_id, kind, name).with_only_columns(Note.id).subquery()
    return db.session.scalar(select(func.count()).select_from(ids))


def start(user_id, kind, old, new):
    """Rename (one write counted): in the request when it changes INLINE_NOTES notes or
    fewer, returning how many changed; else a NoteRename for the worker (tasks.py queues
    it). Raise Refused (nothing written) when it cannot be made."""
    if kind == "tag":
        old, new = tag_names(old, new)
    else:
        link_title(new)
        named = links.resolve(user_id, [old]).get(old.strip())
        if named is not None and not named.trashed:
            raise Refused(gettext("Another note has this title: the links name it."), 422)
    latest = NoteRename.latest(user_id)
    if latest is not None and latest.status in ("queued", "running"):
        raise Refused(gettext("A rename is running already; try again once it is done."), 409)
    spend_note_write(user_id)
    count = count_of(user_id, kind, old)
    if kind == "tag" and count == 0:
        raise Refused(gettext("No note has the tag #%(tag)s.", tag=old), 404)
    if count <= INLINE_NOTES:
        return apply(user_id, kind, old, new)
    rename = NoteRename(user_id=user_id, kind=kind, from_name=old, to_name=new)
    db.session.add(rename)
    db.session.flush()
    return rename


def run(rename_id):
    """Make a queued rename (the worker's): all its notes in one transaction, or none."""
    rename = db.session.get(NoteRename, rename_id)
    if rename is None or rename.status != "queued":
        return
    rename.status = "running"
    db.session.commit()
    try:
        changed = apply(rename.user_id, rename.kind, rename.from_name, rename.to_name)
    except Refused as refused:
        db.session.rollback()
        rename.status, rename.error = "failed", str(refused)
    except Exception:
        db.session.rollback()  # nothing of it written; the account may rename again
        rename.status, rename.error = "failed", gettext("Memo could not finish this rename.")
        rename.finished_at = utcnow()
        db.session.commit()
        raise
    else:
        rename.status, rename.notes_changed = "done", changed
    rename.finished_at = utcnow()
    db.session.commit()
