"""Top-level conftest: loads the project's pytest plugins (fixtures live in their modules).

tests.speedups is not among them: pytest.ini loads it with -p, before any plugin is imported
(the installed package's entry points load harness.plugin and evidence.plugin ahead of this
file), so its bytecode redirect covers them too.
"""
pytest_plugins: list[str] = ["tests.fixtures.mariadb_tls", "tests.fixtures.moto_server",
                             "harness.plugin", "evidence.plugin"]
