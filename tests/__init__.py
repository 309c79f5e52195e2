"""The test suite (a package, so that tests/migrations/ never shadows the project's migrations/)."""
