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
# Threads let a worker keep serving while one request waits on the object store
# or a fetched URL; the database pool holds one connection per thread.
worker_class = "gthread"
threads = settings.WEB_THREADS
# The router gives up after 30 s; a request still running then is killed and logged.
timeout = 30
# The platform sends SIGKILL 30 s after SIGTERM: finish in-flight requests well before.
graceful_timeout = 25
# The router keeps idle connections to the dyno open for up to 90 s and reuses them.
# If gunicorn closed one first, a request the router sends on it as it closes fails
# at the edge: stay open longer than the router (heroku/python-getting-started: 95 s).
keepalive = 95
# Recycle workers now and then so a slow leak can never take a dyno down.
max_requests = 10_000
max_requests_jitter = 1_000
# Requests are logged by the app itself, with their request id.
accesslog = None
errorlog = "-"
