"""gunicorn settings behind the request front (front/): 30 s request timeout, SIGKILL at 30 s.

The front starts gunicorn as `python -m gunicorn` in the app's folder, so `config` imports.
"""

import signal
import sys

from config import ConfigError, load_config

# Check the configuration in the master, before any worker forks: a worker that
# exits while loading the app is restarted forever, burying the one-line reason.
try:
    settings = load_config()
except ConfigError as error:
    sys.exit(f"memo: configuration error: {error}")

# The front binds gunicorn to a Unix socket and serves 0.0.0.0:$PORT itself.
workers = settings.WEB_CONCURRENCY
# The front hands over only whole requests and takes whole responses at once, so a thread is
# busy only while the app works: WEB_THREADS threads per worker, one database connection each.
worker_class = "gthread"
threads = settings.WEB_THREADS
# The router gives up after 30 s (the front too); a worker silent longer is killed and logged.
timeout = 30
# The platform sends SIGKILL 30 s after SIGTERM: finish in-flight requests well before.
graceful_timeout = 25
# The front keeps the router's idle connections (95 s); it opens one per request to gunicorn.
keepalive = 2
# No recycling after N requests: RSS is flat over 20,000 requests a worker (bench/README.md),
# and the platform restarts every dyno daily anyway.
max_requests = 0
# Requests are logged by the app itself, with their request id.
accesslog = None
errorlog = "-"
control_socket_disable = True  # several gunicorns share a machine (releases, tests)
# The front sets X-Forwarded-Proto itself (front/framing.py) and drops a client's other scheme
# headers; gunicorn trusts that one alone. Its default also trusts X-Forwarded-Ssl and
# X-Forwarded-Protocol (a Unix socket's peer is always trusted) and answers a bare 400 of its
# own where they disagree.
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}


def leave_sigterm_to_the_front(cfg):
    """Behind the front (the one that binds gunicorn to a Unix socket), ignore SIGTERM.

    The platform sends it to every process of the dyno at once, while the front still has
    requests to pass on; the front stops gunicorn itself (SIGINT) once they are answered.
    """
    if all(address.startswith("unix:") for address in cfg.bind):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def when_ready(server):
    """The master, once its own signal handlers are in place."""
    leave_sigterm_to_the_front(server.cfg)


def post_worker_init(worker):
    """Each worker, once its own signal handlers are in place."""
    leave_sigterm_to_the_front(worker.cfg)
