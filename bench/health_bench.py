"""Drives /health of the instance application on loopback and prints what a burst costs.

    python bench/health_bench.py [--duration 10] [--concurrency 16] [--workers 2]

It starts everything it needs on 127.0.0.1 and stops it again: a private MariaDB with TLS
(the test fixture's server), a moto Secrets Manager server, and the app under gunicorn
with the instance's own gunicorn_conf.py. Then, for the verdict cached (the instance's
HEALTH_CACHE_SECONDS=2) and uncached (0: a query per request), it sends GET /health from
``--concurrency`` keep-alive clients for ``--duration`` seconds and prints requests/s,
p50/p99 latency, non-200 answers, and the database connections and statements the server
itself counted (SHOW GLOBAL STATUS), not what the app believes it did. The table, with the
machine it ran on, also goes into its section of bench/RESULTS.md (bench/results.py).
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import os
import pathlib
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from bench import machine, results  # noqa: E402
from tests.fixtures.mariadb_tls import start_mariadb  # noqa: E402

LOOPBACK = "127.0.0.1"
MAX_DURATION_S = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(env: dict, workers: int, log_path: pathlib.Path):
    port = free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    full.update(env, PYTHONPATH=str(ROOT / "app"), APP_BIND=f"{LOOPBACK}:{port}",
                APP_WORKERS=str(workers))
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c",
             str(ROOT / "app/platform_app/gunicorn_conf.py"), "platform_app.wsgi:application"],
            env=full, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn did not start; see {log_path}")
                with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), 0.2):
                    break
                time.sleep(0.05)
            yield port
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)


def server_counters(conn) -> tuple[int, int]:
    # One kept root session reads both snapshots, so it adds no connection to the delta.
    with conn.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN ('Connections', 'Questions')")
        values = dict(cur.fetchall())
    return int(values["Connections"]), int(values["Questions"])


def drive(port: int, duration: float, concurrency: int):
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def client():
        conn = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
        mine, bad = [], 0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                conn.request("GET", "/health")
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
            mine.append(time.perf_counter() - started)
            bad += not ok
        conn.close()
        with lock:
            latencies.extend(mine)
            failures[0] += bad

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, failures[0], time.monotonic() - started


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not 0 < args.duration <= MAX_DURATION_S:
        parser.error(f"--duration must be in (0, {MAX_DURATION_S}] seconds")
    if not 1 <= args.concurrency <= 128:
        parser.error("--concurrency must be 1..128")

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines
    started_on, load = machine.describe(), machine.load()
    with tempfile.TemporaryDirectory(prefix="hb-") as tmp:
        rows = run(pathlib.Path(tmp), args)
    header = ("mode", "requests", "req/s", "p50 ms", "p99 ms", "non-200",
              "DB conns opened", "DB statements")
    table = [
        (f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {started_on} "
         f"(load average {load} at the start): `{results.invocation()}`"),
        "",
        (f"GET /health on loopback: {args.concurrency} keep-alive clients, "
         f"{args.duration:g} s per mode, gunicorn gthread {args.workers} workers x 8 threads, "
         f"{os.cpu_count()} CPUs"),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *(f"| {mode} | {n} | {rps:.0f} | {p50:.2f} | {p99:.2f} | {bad} | {conns} | {stmts} |"
          for mode, n, rps, p50, p99, bad, conns, stmts in rows),
    ]
    print("\n".join(table))
    written = results.record("health_bench", "Instance application: GET /health", "\n".join(table))
    print(f"\ntable written to {written.relative_to(ROOT)}")


def run(work: pathlib.Path, args) -> list[tuple]:
    moto_port = free_port()
    moto = ThreadedMotoServer(ip_address=LOOPBACK, port=moto_port, verbose=False)
    moto.start()
    try:
        with start_mariadb(work) as db:
            password = secrets.token_urlsafe(24)
            db.create_user("bench_app", password, alter_self=False)
            sm = boto3.client("secretsmanager", region_name="us-east-1",
                              endpoint_url=f"http://{LOOPBACK}:{moto_port}",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
            arn = sm.create_secret(Name="bench-db", SecretString=json.dumps(
                {"username": "bench_app", "password": password, "dbname": "health"}))["ARN"]
            base_env = {
                "APP_ENVIRONMENT": "bench", "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_ENDPOINT_URL_SECRETS_MANAGER": f"http://{LOOPBACK}:{moto_port}",
                "AWS_EC2_METADATA_DISABLED": "true", "DB_SECRET_ARN": arn,
                "DB_HOST": db.server_name, "DB_PORT": str(db.port),
                "DB_CA_BUNDLE": str(db.ca_path)}
            rows = []
            for mode, cache in (("cached (2 s)", "2"), ("uncached", "0")):
                env = {**base_env, "HEALTH_CACHE_SECONDS": cache}
                with app_server(env, args.workers, work / f"app-{cache}.log") as port, \
                        contextlib.closing(db.root()) as root:
                    before = server_counters(root)
                    lat, bad, elapsed = drive(port, args.duration, args.concurrency)
                    after = server_counters(root)
                # The second counter read is itself one statement on the server.
                rows.append((mode, len(lat), len(lat) / elapsed,
                             statistics.median(lat) * 1000, percentile(lat, 99) * 1000, bad,
                             after[0] - before[0], after[1] - before[1] - 1))
    finally:
        moto.stop()
    return rows


if __name__ == "__main__":
    main()
