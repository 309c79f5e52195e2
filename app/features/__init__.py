"""The features: one package each (its blueprint, forms, jobs and own modules).

A feature may import the platform at app/'s root; the platform never imports a feature
(docs/development.md, "Layout").
"""
