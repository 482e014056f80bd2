"""One local Spark session for every Spark test; without Java the tests fail, saying so."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    java = shutil.which("java") or (os.environ.get("JAVA_HOME") and shutil.which("java", path=os.path.join(
        os.environ["JAVA_HOME"], "bin")))
    if not java:
        pytest.fail("the Spark tests need Java 17+ on PATH (or JAVA_HOME): install a JDK, e.g. apt-get install "
                    "openjdk-17-jre-headless")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from campuslake.engines.spark import local_session

    session = local_session("local[2]")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def spark(spark_session: Any) -> Iterator[Any]:
    """A fresh SparkEngine (its own temp views) on the shared session."""
    from campuslake.engines.spark import SparkEngine

    engine = SparkEngine(session=spark_session)
    yield engine
    engine.close()


@pytest.fixture
def duck() -> Iterator[Any]:
    from campuslake.engines.duckdb import DuckDBEngine

    engine = DuckDBEngine()
    yield engine
    engine.close()
