"""`python -m front gunicorn wsgi:app`: the Procfile's web process."""

import sys

from front.supervision import main

sys.exit(main())
