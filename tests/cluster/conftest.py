"""Fixtures for the cluster tests: PostgreSQL (``$POSEIT_TEST_PG_URL``, else a throwaway server from Debian's
packages) and a local two-node Ray cluster, each skipped with the reason when it cannot be had."""

from __future__ import annotations

import importlib.util
import os
import pwd
from collections.abc import Iterator

import pytest
from cluster_helpers import PgServer, RayCluster, pg_bin

import live_web


def _pg_unavailable() -> str | None:
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg not installed (pip install -e '.[cluster]')"
    if pg_bin() is None:
        return "no PostgreSQL server programs (apt-get install postgresql) and no $POSEIT_TEST_PG_URL"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a postgres system user to run the server as"
    return None


# the models and clip fixtures, shared with tests/serve
pushup_clip, pushup_jpegs, serve_models = live_web.pushup_clip, live_web.pushup_jpegs, live_web.serve_models


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer | str]:
    """A PostgreSQL server: the URL in $POSEIT_TEST_PG_URL, else a throwaway one (stopped at the end)."""
    url = os.environ.get("POSEIT_TEST_PG_URL")
    if url:
        yield url
        return
    reason = _pg_unavailable()
    if reason:
        pytest.skip(reason)
    server = PgServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer | str, request: pytest.FixtureRequest) -> str:
    """A fresh database on the server for one test (the configured URL as is)."""
    if isinstance(pg_server, str):
        import sqlalchemy as sa

        from poseit.serve.store import make_engine, metadata

        engine = make_engine(pg_server)
        with engine.begin() as conn:  # empty it: the tests own this database
            metadata.drop_all(conn)
            conn.execute(sa.text("DROP TABLE IF EXISTS schema_version"))
        engine.dispose()
        return pg_server
    return pg_server.database(f"t_{abs(hash(request.node.nodeid)) % 10**9}")


@pytest.fixture(scope="module")
def ray_cluster(serve_models) -> Iterator[RayCluster]:
    """A head and one worker node (separate `ray start` processes, 1 CPU each), torn down at the end."""
    pytest.importorskip("ray.serve", reason="Ray Serve not installed (pip install -e '.[cluster]')")
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    try:
        cluster = RayCluster(num_cpus=1, workers=1, object_store_mb=200)
    except RuntimeError as exc:  # once more: a port picked free can be taken before Ray binds it
        print(f"Ray cluster did not start, once more: {str(exc)[-800:]}")
        cluster = RayCluster(num_cpus=1, workers=1, object_store_mb=200)
    try:
        yield cluster
    finally:
        cluster.stop()
