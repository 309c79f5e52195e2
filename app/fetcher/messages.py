"""Why a page was not fetched: FetchError and its messages, stored in English and shown
translated (app/i18n/stored.py). More specific messages come first: they are matched in order.
"""

from app.i18n.stored import stored_message


class FetchError(Exception):
    """A page may not or could not be fetched; the message tells the user why."""


class AddressRefused(FetchError):
    """The host is, or resolves to, an address Memo never connects to (private, loopback...);
    `where` holds the host, the problem and any address it resolved to, for other words
    (a webhook's sending: sent_words())."""

    def __init__(self, message, where=None):
        super().__init__(message)
        self.where = where or {}

    def sent_words(self):
        """Return the refusal as sending, not fetching, says it."""
        if "address" in self.where:
            return NOT_SENT_ADDRESS % self.where
        return NOT_SENT_HOST % self.where if self.where else str(self)


TOOK_TOO_LONG = stored_message("The site took longer than %(seconds)s seconds; Memo gave up.")
REDIRECTED_TO = stored_message("The page redirected to %(url)s. %(reason)s")
TOO_MANY_REDIRECTS = stored_message(
    "The page redirected more than %(count)s times; Memo stopped there."
)
UNSAFE_CHARACTERS = stored_message(
    "The address contains spaces, backslashes or control characters."
)
NOT_A_WEB_ADDRESS = stored_message("This is not a valid web address.")
NOT_HTTP = stored_message("Only http:// and https:// addresses can be fetched.")
NOT_HTTPS = stored_message("Only https:// addresses are sent to.")
HAS_CREDENTIALS = stored_message("Addresses with a user name or password are not fetched.")
NO_HOST_NAME = stored_message("The address has no host name.")
BAD_HOST_NAME = stored_message("The host name is not valid.")
NOT_PUBLIC_ADDRESS = stored_message(
    "Memo only fetches public web pages: %(host)s resolves to %(address)s, %(problem)s."
)
NOT_PUBLIC_HOST = stored_message("Memo only fetches public web pages: %(host)s is %(problem)s.")
NOT_SENT_ADDRESS = stored_message(
    "Memo only sends to public addresses: %(host)s resolves to %(address)s, %(problem)s."
)
NOT_SENT_HOST = stored_message("Memo only sends to public addresses: %(host)s is %(problem)s.")
LOOPBACK = stored_message("a loopback address")
UNSPECIFIED = stored_message("an unspecified address")
LINK_LOCAL = stored_message("a link-local address")
MULTICAST = stored_message("a multicast address")
CARRIES_IPV4 = stored_message("an IPv6 address that carries an IPv4 address")
SHARED = stored_message("a shared (carrier-grade NAT) address")
RESERVED = stored_message("a reserved address")
PRIVATE = stored_message("a private address")
NOT_PUBLIC = stored_message("not a public address")
SLOW_LOOKUPS = stored_message("Too many web sites are slow to look up right now; try later.")
HOST_NOT_FOUND = stored_message("The host name %(host)s could not be found.")
REDIRECT_NOWHERE = stored_message("The site redirected without saying where to.")
ANSWERED_WITH_PHRASE = stored_message("The site answered %(status)s %(phrase)s.")
ANSWERED = stored_message("The site answered %(status)s.")
NO_MEDIA_TYPE = stored_message("The site did not say what it sent; Memo counts web pages only.")
NOT_TEXT = stored_message("Memo counts words of web pages and plain text only, not %(type)s.")
COMPRESSED = stored_message("The site sent a compressed page although Memo asked for none.")
TOO_LARGE = stored_message("The page is larger than %(size)s; Memo stopped reading there.")
UNTRUSTED_CERTIFICATE = stored_message(
    "The certificate of %(host)s could not be verified, so Memo did not trust it."
)
NO_SECURE_CONNECTION = stored_message("A secure connection to %(host)s could not be made.")
NO_CONNECTION = stored_message("Could not connect to %(host)s.")
NO_ANSWER_IN_TIME = stored_message("%(host)s did not answer in time.")
CUT_OFF = stored_message("The connection to %(host)s failed or was cut off.")
