"""A second session on the same catalog as a connection, acting as the same actor: for work
a thread does beside the connection's own (one psycopg session must not be shared between
threads, each with its transactions)."""

import psycopg
from psycopg.conninfo import make_conninfo

from trulience.catalog.database import connect


def sibling_connection(conn: psycopg.Connection) -> psycopg.Connection:
    """A new autocommit connection to `conn`'s database with the same parameters, password
    and audit actor (the caller closes it)."""
    actor = conn.execute("SELECT current_setting('trulience.actor', true)").fetchone()[0]
    password = conn.info.password
    conninfo = make_conninfo(conn.info.dsn, **({"password": password} if password else {}))
    return connect(conninfo, actor=actor or None)
