"""What a person reads on a page or in a mail, to check it is all in their language."""

import re
from html.parser import HTMLParser

# Latin-script words a Korean page may show besides the user's own content: the product's
# name, file formats and units as Korean writes them too, and English as the switcher names it.
# Names, formats and units, as a Korean reader sees them too; file extensions as on their files.
LATIN_ALLOWED = {"Memo", "JPEG", "PNG", "WebP", "JSON", "ZIP", "MB", "KB", "GB", "UTC", "English"}
LATIN_ALLOWED |= {"zip", "txt", "md", "UTF"}
LATIN_ALLOWED |= {"tag"}  # the search syntax's `tag:`, typed as it is in any language
LATIN_ALLOWED |= {"API"}  # what Korean developers call an API too (the tokens page)
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


class ReadableText(HTMLParser):
    """Collect what a person reads on a page: text, and the attributes browsers show or speak."""

    SPOKEN = ("title", "alt", "placeholder", "aria-label", "data-confirm")
    HIDDEN = ("script", "style")

    def __init__(self):
        super().__init__()
        self.parts, self.hidden, self.select_skipped = [], 0, False

    def handle_starttag(self, tag, attrs):
        # The time zone list names some places in their own spelling: CLDR has no Korean name
        # for Nuuk or Atikokan. Place names are not English sentences; the chosen zone's
        # Korean name is checked on its own (test_settings_change_the_language_...).
        skipped = tag in self.HIDDEN or (tag == "select" and ("name", "timezone") in attrs)
        self.hidden += skipped
        if tag == "select":
            self.select_skipped = skipped
        self.parts += [value or "" for name, value in attrs if name in self.SPOKEN]
        self.parts += [value or "" for name, value in attrs if name.startswith("data-message-")]

    def handle_endtag(self, tag):
        self.hidden -= tag in self.HIDDEN or (tag == "select" and self.select_skipped)

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def latin_words(html, *own_content):
    """Return the Latin-script words of a page outside the user's own content and LATIN_ALLOWED."""
    reader = ReadableText()
    reader.feed(html)
    text = " ".join(reader.parts)
    for content in sorted(own_content, key=len, reverse=True):
        text = text.replace(content, " ")
    return [word for word in LATIN_WORD.findall(text) if word not in LATIN_ALLOWED]
