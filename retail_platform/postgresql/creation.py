"""Test databases on a Citus cluster as well as on one server.

On a Citus coordinator (`DATABASE_URL`'s database has the extension and worker nodes), the test
database is made the way the cluster's own database was: on every node, with the extension, and
the coordinator and workers registered in it (Citus keeps its nodes per database). `migrate` then
lays the tables out (`retail_platform.citus`), and destroying the test database drops it on the
workers too. On one server this is Django's creation, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from django.db.backends.postgresql import creation


@dataclass(frozen=True)
class Node:
    host: str
    port: int
    coordinator: bool


class DatabaseCreation(creation.DatabaseCreation):
    _citus_nodes: tuple[Node, ...] = ()

    def _create_test_db(self, verbosity: int, autoclobber: bool, keepdb: bool = False) -> str:
        self._citus_nodes = self._nodes_of_main_database()
        name = super()._create_test_db(verbosity, autoclobber, keepdb)  # type: ignore[misc]
        if self._citus_nodes:
            self._citus_database_make(name, keepdb=keepdb)
        return name

    def _destroy_test_db(self, test_database_name: str, verbosity: int) -> None:
        super()._destroy_test_db(test_database_name, verbosity)  # type: ignore[misc]
        for node in self._citus_nodes:
            if not node.coordinator:
                with self._node_connect(node, "postgres") as admin:
                    admin.execute(
                        f"DROP DATABASE IF EXISTS {self.connection.ops.quote_name(test_database_name)} WITH (FORCE)"
                    )

    def _nodes_of_main_database(self) -> tuple[Node, ...]:
        """The cluster's nodes as the configured database registers them; () without Citus."""
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'")
                if cursor.fetchone() is None:
                    return ()
                cursor.execute(
                    "SELECT nodename, nodeport, groupid = 0 FROM pg_dist_node "
                    "WHERE noderole = 'primary' ORDER BY groupid"
                )
                return tuple(Node(host, port, coordinator) for host, port, coordinator in cursor.fetchall())
        except Exception:  # no such database yet: a single server as far as the tests go
            return ()
        finally:
            self.connection.close()

    def _node_connect(self, node: Node, database: str) -> psycopg.Connection[Any]:
        settings = self.connection.settings_dict
        return psycopg.connect(
            host=node.host,
            port=node.port,
            user=settings["USER"] or None,
            password=settings["PASSWORD"] or None,
            dbname=database,
            autocommit=True,
        )

    def _citus_database_make(self, name: str, *, keepdb: bool) -> None:
        quoted = self.connection.ops.quote_name(name)
        coordinator = next(node for node in self._citus_nodes if node.coordinator)
        with self._node_connect(coordinator, name) as database:
            if keepdb and database.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'").fetchone():
                return
        for node in self._citus_nodes:
            if not node.coordinator:
                with self._node_connect(node, "postgres") as admin:
                    admin.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
                    admin.execute(f"CREATE DATABASE {quoted}")
                with self._node_connect(node, name) as database:
                    database.execute("CREATE EXTENSION citus")
        with self._node_connect(coordinator, name) as database:
            database.execute("CREATE EXTENSION citus")
            database.execute("SELECT citus_set_coordinator_host(%s, %s)", [coordinator.host, coordinator.port])
            for node in self._citus_nodes:
                if not node.coordinator:
                    database.execute("SELECT citus_add_node(%s, %s)", [node.host, node.port])
