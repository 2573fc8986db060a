from alembic import context

from portal.db import make_engine
from portal.models import Base

config = context.config
connection = config.attributes.get("connection")


def run(connection):
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration rebuilds a table (copy, drop, rename). With foreign keys on, dropping a table
        # that rows elsewhere refer to fails, so they are off while migrating (a no-op inside a transaction,
        # so this comes first) and checked once at the end instead. portal.migrate then closes this
        # connection, so no pooled connection keeps them off.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows that refer to nothing: {broken[:5]}")


if connection is not None:
    run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        # portal.migrate always sets one; the alembic command line alone has no database to go to.
        raise RuntimeError("no database URL: run migrations with `portal db upgrade`")
    engine = make_engine(url)
    with engine.connect() as conn:
        run(conn)
