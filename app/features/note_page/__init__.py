"""The note's page, and the forms on it that reach into other features: its attachments, its
share links and its reminder.

The note's writer (app/features/notes/service.py) keeps a note's attachments in step with it, and
its pages say what a trash or restore did to its share links, so notes imports those features'
own modules and they do not import notes back. The page, which reads a note and every panel
at once, lives here, above them all, on the features' own blueprints (their endpoint names
stay the features'): the page itself (view.py, the one place it is composed), starting and
confirming an upload (attachments.py), making a share link (shares.py) and setting a
reminder (reminder.py), each of which may answer with the page. create_app imports these
modules before it registers the blueprints.
"""
