"""The pages that join notes with what a note holds of other features: its attachments and
share links.

The note's writer (app/features/notes/service.py) keeps a note's attachments in step with it, and
its pages say what a trash or restore did to its share links, so notes imports those features'
own modules and they do not import notes back. A page that needs a note (its lookup) and one
of them at once lives here, above both, on the features' own blueprints (their endpoint
names stay the features'): the note's page with every panel (note.py), starting and
confirming an upload (attachments.py), and making a share link (shares.py). create_app
imports these modules before it registers the blueprints.
"""
