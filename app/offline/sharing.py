"""The share sheet: another app shares a page or some text into Memo (the manifest's
share_target opens GET /notes/new?title=…&text=…&url=…), and the new-note form opens with it.
Nothing is saved until the person presses Save (a POST with its CSRF token)."""

from app.models import CONTENT_MAX_LENGTH, TITLE_MAX_LENGTH


def shared_content(text, url):
    """Return a new note's text from what was shared: the text, then the link unless the text
    already holds it (apps put the link in either)."""
    if url and url in text:
        return text
    return "\n\n".join(part for part in (text, url) if part)


def prefill_shared(form, args):
    """Fill the new-note form from a share, each field cut to what a note holds."""
    title = args.get("title", "").strip()
    content = shared_content(args.get("text", "").strip(), args.get("url", "").strip())
    if title:
        form.title.data = title[:TITLE_MAX_LENGTH]
    if content:
        form.content.data = content[:CONTENT_MAX_LENGTH]
