"""Top-level conftest: loads the project's pytest plugins (fixtures live in their modules).

tests.speedups comes first: it keeps the session's bytecode under the cache, for the plugins
after it too.
"""
pytest_plugins: list[str] = ["tests.speedups", "tests.fixtures.mariadb_tls",
                             "tests.fixtures.moto_server", "harness.plugin", "evidence.plugin"]
