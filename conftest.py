"""Top-level conftest: loads the project's pytest plugins (fixtures live in their modules)."""
pytest_plugins: list[str] = ["tests.fixtures.mariadb_tls", "tests.fixtures.moto_server", "harness.plugin", "evidence.plugin"]
