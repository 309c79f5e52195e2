"""Alembic's migration scripts, and the DDL helpers they import (migrations.ddl)."""
