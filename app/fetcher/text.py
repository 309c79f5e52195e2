"""A fetched page's bytes as text, decoded as a browser would (the WHATWG Encoding Standard).

Imported by the word counter's sandboxed child, which decodes there under its CPU limit: it
imports nothing of Memo's and no framework.
"""

import webencodings
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
    to_unicode,
)

# The codecs the WHATWG Encoding Standard's labels name, as w3lib resolves them. A page may
# declare only these: Python also knows codecs no browser does (punycode decodes in quadratic
# time, idna raises whatever the error handler), and a label naming one of those is ignored,
# as a browser ignores a label it does not know. (The standard decodes the labels of its
# "replacement" encoding to one U+FFFD; those are left out too.)
WEB_CODECS = frozenset(
    resolve_encoding(label)
    for label, name in webencodings.LABELS.items()
    if name not in {"replacement", "x-user-defined"} and resolve_encoding(label)
)


def text_of(body, content_type, media_type):
    """Decode a body as a browser would: its byte order mark, else the charset of its
    Content-Type or (HTML only) of its <meta>, else UTF-8 if it is valid, else Windows-1252.
    """
    codec, mark = read_bom(body)
    if codec:
        return to_unicode(body[len(mark) :], codec)
    declared = [http_content_type_encoding(content_type)]
    if media_type != "text/plain":
        declared.append(html_body_declared_encoding(body))
    for codec in declared:
        if codec in WEB_CODECS:
            return to_unicode(body, codec)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return to_unicode(body, "cp1252")
