"""Languages and time zones: who reads which, and times as the reader reads them.

Modules: choice (the selectors Flask-Babel calls), formats (times and sizes), stored (messages
jobs store in English). The switcher, its form and its route, is my page's
(app/features/mypage/language.py), since a signed-in user's switch is told to every address of the
account; this package imports no form, so the models may use it.
"""
