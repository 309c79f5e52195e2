"""gunicorn settings for a platform router: 30 s request timeout, SIGKILL 30 s after SIGTERM."""

import os
import sys

# Check the configuration in the master, before any worker forks: a worker that
# exits while loading the app is restarted forever, burying the one-line reason.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from config import ConfigError, load_config  # noqa: E402

try:
    settings = load_config()
except ConfigError as error:
    sys.exit(f"memo: configuration error: {error}")

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = settings.WEB_CONCURRENCY
# The asyncio worker reads every request, body included (app/buffering.py), so a slow
# client holds no thread; the app then runs on WEB_THREADS threads per worker, one
# database connection each. See docs/security.md, "A slow client holds no thread".
worker_class = "asgi"
# libuv's loop: the notes list served 435 req/s on it against 247 on asyncio's own
# (bench/slow_clients.py, docs/security.md).
asgi_loop = "uvloop"
# Connections one worker keeps open, slow ones included; each costs a coroutine and its
# buffered body (at most MAX_CONTENT_LENGTH), not a thread.
worker_connections = 1000
# The router gives up after 30 s; a request still running then is killed and logged.
timeout = 30
# The platform sends SIGKILL 30 s after SIGTERM: finish in-flight requests well before.
graceful_timeout = 25
# The router keeps idle connections to the dyno open for up to 90 s and reuses them.
# If gunicorn closed one first, a request the router sends on it as it closes fails
# at the edge: stay open longer than the router (heroku/python-getting-started: 95 s).
keepalive = 95
# No recycling after N requests: gunicorn 27's asyncio worker, once recycling, stops
# accepting yet keeps its kept-alive connections for up to graceful_timeout, and under
# bench/web.py /healthz fell to 8 requests/s and 32 requests timed out while it did. RSS
# is flat over 20,000 requests a worker (bench/README.md), and the platform restarts
# every dyno daily anyway.
max_requests = 0
# Requests are logged by the app itself, with their request id.
accesslog = None
errorlog = "-"
