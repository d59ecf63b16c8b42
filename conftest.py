"""Top-level conftest: loads the project's pytest plugins (fixtures live in their modules)."""
import gc

import pytest

# The session's bytecode was redirected before this file was read (pytest.ini:
# -p tests.bytecode_first).
pytest_plugins: list[str] = ["tests.fixtures.mariadb_tls", "tests.fixtures.moto_server", "harness.plugin", "evidence.plugin"]


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # Everything is reported and written by now. The interpreter's teardown then runs the
    # cycle collector over every object left (parsed JSON, boto/moto models, ASTs): ~0.9 s of
    # a 6 s unit run here. Frozen objects are still freed by reference counting and their
    # files closed; only the collector's passes over them are skipped.
    gc.freeze()
