"""Languages and time zones: who reads which, the switcher, and times as the reader reads them.

Modules: choice (the selectors Flask-Babel calls), formats (times and sizes), stored (messages
jobs store in English), forms and routes (the switcher; its blueprint `bp` lives in routes, as
models.py imports `stored` from here and must not pull the routes in with it).
"""
