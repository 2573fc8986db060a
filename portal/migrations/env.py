from alembic import context

from portal.db import make_engine
from portal.models import Base

config = context.config
connection = config.attributes.get("connection")


def run(connection):
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


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
