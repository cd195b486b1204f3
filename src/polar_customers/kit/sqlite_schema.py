"""A SQLite table's schema text, read and replaced in place.

SQLite cannot add or drop a table constraint, and rebuilding a table runs the ON DELETE
CASCADE of every table that references it. Its documentation allows editing the schema text
for changes that do not alter how rows are stored, such as adding or removing a CHECK or a
FOREIGN KEY constraint (https://www.sqlite.org/lang_altertable.html, "otheralter"). Used by
migrations only."""

from sqlalchemy import Connection


def table_schema(bind: Connection, table: str) -> str:
    schema: str = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    return schema


def set_table_schema(bind: Connection, table: str, schema: str) -> None:
    """Replace the schema text; the schema version moves on, so that every connection
    reads it again."""
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (schema, table)
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
