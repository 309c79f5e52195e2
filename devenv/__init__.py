"""Local development services and set-up, shared by scripts/ and tests/."""
