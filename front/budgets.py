"""What one client, one account and the whole dyno may hold of the front at once.

Every budget is counted in the front's one event loop (no locks) and given back in a
`finally`, so a connection that ends in any way returns what it held. A client is its
address, an IPv6 address by its /64 (what one subscriber gets: 2^64 addresses, one client).
"""

import ipaddress
from collections import Counter

# Connections: each costs a descriptor and a little memory, never a thread. One address may
# hold 64 (a household or an office behind one NAT opens a few dozen at most).
MAX_CONNECTIONS = 2048
CONNECTIONS_PER_CLIENT = 64
# Bodies nobody has authenticated yet: 128 requests with a body at once per dyno, from the
# first byte of the body to gunicorn's answer (64 MiB of forms; 64 turned away 37 of
# tests/test_load.py's 100 people signing up at once). Anonymous forms (a sign-in, a
# sign-up) may take 96 of them: the other 32 are kept for signed-in sessions, so a flood of
# sign-in forms never stops a note from being saved. One address holds at most 16 bodies.
BODY_SLOTS, ANONYMOUS_BODY_SLOTS, BODY_SLOTS_PER_CLIENT = 128, 96, 16
# Uploads (photos, imports: up to 10 MiB each), only for live sessions: 4 per dyno, 2 per
# address and 2 per account (one account signed in from two places holds no more).
UPLOAD_SLOTS, UPLOAD_SLOTS_PER_CLIENT, UPLOAD_SLOTS_PER_ACCOUNT = 4, 2, 2
# Responses taken whole from gunicorn and fed to slow readers: 256 MiB per dyno past which
# the front answers 503, and 32 MiB per response (the largest page is a few MiB).
SPOOL_BUDGET_BYTES = 256 * 1024 * 1024
SPOOL_BYTES_PER_RESPONSE = 32 * 1024 * 1024
# A body must come at least this fast, on average, after three times FRONT_BODY_SECONDS (30 s:
# a slow phone's small form): a poor 3G link uploads 10 MiB in about 4 minutes; a trickler
# (a byte every few seconds) is cut off.
BODY_BYTES_PER_SECOND = 8 * 1024
BODY_GRACE_READS = 3
# A response must be taken at least this fast, on average, after one SEND_SECONDS: the same
# poor 3G link reads a 1 MiB page in about 2 minutes, while a reader that takes a few bytes
# every 29 s (inside the deadline between writes) no longer holds its spool and its
# connection for ever.
SEND_BYTES_PER_SECOND = 8 * 1024


def client_key(address):
    """Return who `address` counts as: itself, or its /64 for IPv6 ("2001:db8:1:2::/64")."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address  # "local" (a Unix socket), or what a router wrote that is no address
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is 192.0.2.1
        return str(parsed.ipv4_mapped)
    return str(ipaddress.IPv6Network((parsed, 64), strict=False))


def body_deadline(between_reads, length):
    """Return the seconds in all a body of `length` bytes may take to arrive."""
    return BODY_GRACE_READS * between_reads + length / BODY_BYTES_PER_SECOND


def send_deadline(grace, length, rate=SEND_BYTES_PER_SECOND):
    """Return the seconds in all a response of `length` bytes may take to be read."""
    return grace + length / rate


class Slots:
    """At most `total` held at once by everyone, and at most `each` by one key."""

    def __init__(self, total, each):
        self.total, self.each = total, each
        self.held = Counter()
        self.count = 0

    def take(self, key):
        """Take one for `key`; return False (taking nothing) if either limit is reached."""
        if self.count >= self.total or self.held[key] >= self.each:
            return False
        self.held[key] += 1
        self.count += 1
        return True

    def give_back(self, key):
        self.count -= 1
        self.held[key] -= 1
        if not self.held[key]:
            del self.held[key]


class Connections:
    """The dyno's connection slots: MAX_CONNECTIONS, and CONNECTIONS_PER_CLIENT per address
    when clients connect directly (behind a router every connection is the router's, and
    clients are counted per request).

    When the dyno's slots are all held, the connection that has waited longest for a request
    (silent since it opened, idle between requests, or lingering after a refusal) is closed
    and gives its slot to the new one: a flood of silent connections then only ever holds
    the newest slots and never shuts the others out. An address over its own share is refused.
    """

    def __init__(self, per_address):
        each = CONNECTIONS_PER_CLIENT if per_address else MAX_CONNECTIONS
        self.slots = Slots(MAX_CONNECTIONS, each)
        self.per_address = per_address
        self.open = {}  # connection task -> the key its slot is held for
        self.waiting = {}  # connection task -> None, in the order they began to wait

    def take(self, task, key):
        """Take a slot for the connection `task` from `key`; return whether it may stay."""
        slots = self.slots
        if not slots.take(key):
            over_share = self.per_address and slots.held[key] >= slots.each
            if over_share or not self.waiting:
                return False
            oldest = next(iter(self.waiting))
            self.give_back(oldest)
            oldest.cancel()
            slots.take(key)
        self.open[task] = key
        self.waiting[task] = None
        return True

    def give_back(self, task):
        """Give back the slot of `task` (once: a connection closed for a newer one is done)."""
        self.waiting.pop(task, None)
        key = self.open.pop(task, None)
        if key is not None:
            self.slots.give_back(key)


class Spool:
    """Bytes of responses the front holds for its readers: per dyno, then 503."""

    def __init__(self, total=SPOOL_BUDGET_BYTES, each=SPOOL_BYTES_PER_RESPONSE):
        self.total, self.each = total, each
        self.used = 0

    def take(self, held, more):
        """Reserve `more` bytes for a response already holding `held`; return whether it may."""
        if held + more > self.each or self.used + more > self.total:
            return False
        self.used += more
        return True

    def give_back(self, size):
        self.used -= size


class Held:
    """What one request holds: (slots, key) pairs, given back together."""

    def __init__(self):
        self.pairs = []

    def take(self, slots, key):
        if not slots.take(key):
            return False
        self.pairs.append((slots, key))
        return True

    def give_back(self, *only):
        """Give back everything, or only the slots among `only`."""
        for pair in list(self.pairs):
            if not only or pair[0] in only:
                pair[0].give_back(pair[1])
                self.pairs.remove(pair)
