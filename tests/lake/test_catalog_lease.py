"""The catalog's run lease: one holder at a time, free again when released, expired or its process died."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
import sqlalchemy as sa

from campuslake.lake.catalog import Catalog, LeaseHeld, leases


@pytest.fixture
def catalog(tmp_path):
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield catalog
    catalog.dispose()


def test_a_held_lease_is_refused_with_its_holder_then_free_after_release(catalog):
    lease = catalog.acquire_lease("run:alumni")
    with pytest.raises(LeaseHeld, match="another process holds run:alumni") as refused:
        catalog.acquire_lease("run:alumni")
    assert refused.value.context["holder"].endswith(f":{os.getpid()}")
    catalog.acquire_lease("run:other").release()  # leases are per name
    lease.release()
    catalog.acquire_lease("run:alumni").release()


def test_a_lease_left_by_a_dead_process_or_expired_is_taken_over(catalog):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = catalog.acquire_lease("run:alumni")
    stale._stop.set()
    with catalog.engine.begin() as con:  # as if a process now gone had taken it
        con.execute(leases.update().values(holder=f"{socket.gethostname()}:{dead.stdout.strip()}"))
    catalog.acquire_lease("run:alumni").release()

    expired = catalog.acquire_lease("run:alumni", seconds=0)
    expired._stop.set()
    taken = catalog.acquire_lease("run:alumni")
    with catalog.engine.connect() as con:
        assert con.execute(sa.select(leases.c.token)).scalars().all() == [taken.token]
    taken.release()
