"""Languages and time zones: who reads which, the switcher, and times as the reader reads them.

Modules: choice (the selectors Flask-Babel calls), formats (times and sizes), stored (messages
jobs store in English), forms (the switcher's; its route is app/mypage/language.py, a feature
module, since a signed-in user's switch is told to every address of the account).
"""
