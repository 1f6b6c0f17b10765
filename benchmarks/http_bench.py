"""HTTP benchmark of the search API: gunicorn on the real 401-issue market, concurrent clients.

    python benchmarks/http_bench.py [--clients 8] [--duration 30] [--workers 3]

Prepares a scratch PostgreSQL database (default stocksite_httpbench; created if missing): migrates,
imports the exchange's listing and every price file of ../shared/data/jp_daily with the market
commands (once), builds the search snapshot, and makes one Pro user with an API token per
client. Then it serves the site with gunicorn on loopback and sends `POST /api/v1/search/` from
the clients (stock ranges of 20, 60 and 120 days and pasted prices, history and latest mode,
k = 10) in two phases, each a warm-up then a bounded measured time:

- saturation: every client sends its next search as soon as the last is answered, which gives
  the most searches a second the server answers (at 8 clients, latency = 8 / throughput);
- paced: the clients together send --rate searches a second on a fixed schedule, which gives
  the latency a user sees at that load.

It prints throughput, latency percentiles and errors of each, and each phase's goal (issue 25):
at 8 clients, at least 40 searches a second at saturation, and a p95 at or under 150 ms paced
at 20 searches a second, with no errors in either.

The plan's API rate limit is raised in the scratch database, so that the figures measure the
server rather than the throttle. Nothing here is a test: the numbers depend on the machine.
"""

import argparse
import os
import random
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data"
MAX_LAG_SECONDS = 5.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds before measuring")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument(
        "--rate", type=float, default=20.0, help="searches/s of the paced phase, all clients"
    )
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/stocksite_httpbench",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--snapshot-dir", type=Path, default=REPO / "var" / "httpbench-snapshot")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def environment(args) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        SIMILARITY_SNAPSHOT_DIR=str(args.snapshot_dir),
        SECRET_KEY=env.get("SECRET_KEY") or secrets.token_urlsafe(50),
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # Production settings on plain http over loopback; no mail is sent.
        SECURE_SSL_REDIRECT="0",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="stocksite.settings",
    )
    return env


def database_create(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1) + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        query = "SELECT 1 FROM pg_database WHERE datname = %s"
        if not connection.execute(query, [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def prepare(args) -> list[str]:
    """Database, market, snapshot and one token per client; returns the tokens."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.services import api_token_rotate
    from billing.models import ComplimentaryGrant, Plan
    from market.models import DailyBar
    from similarity.snapshot import SnapshotMissing, snapshot_current

    call_command("migrate", verbosity=0)
    if not DailyBar.objects.exists():
        print("importing the listing and 401 price files (once) ...", flush=True)
        started = time.perf_counter()
        call_command("import_listing", args.data / "jpx_listed_issues_2026-02-28.csv")
        call_command("import_prices", args.data / "jp_daily", verbosity=0)
        print(f"imported in {time.perf_counter() - started:.0f} s", flush=True)
    try:
        snapshot_current()
    except SnapshotMissing:
        call_command("build_snapshot")

    Plan.objects.filter(slug="pro").update(api_requests_per_minute=1_000_000)
    pro = Plan.objects.get(slug="pro")
    now = timezone.now()
    tokens = []
    for index in range(args.clients):
        user, _ = get_user_model().objects.get_or_create(email=f"bench{index}@example.com")
        if not ComplimentaryGrant.objects.filter(user=user, ends_at__gt=now).exists():
            ComplimentaryGrant.objects.create(
                user=user,
                plan=pro,
                starts_at=now - timezone.timedelta(days=1),
                ends_at=now + timezone.timedelta(days=365),
            )
        tokens.append(api_token_rotate(user=user))
    cache.clear()  # today's search counts and throttle windows of earlier runs
    return tokens


def request_bodies(seed: int, count: int = 400) -> list[dict]:
    """Stock ranges of 20, 60 and 120 days cut from the snapshot, and pasted prices."""
    import numpy as np

    from similarity.snapshot import snapshot_current

    market = snapshot_current().market
    rng = random.Random(seed)
    bodies = []
    while len(bodies) < count:
        s = rng.randrange(len(market))
        m = rng.choice((20, 60, 120))
        dates = market.series_dates(s)
        if len(dates) < m + 10:
            continue
        start = rng.randrange(len(dates) - m)
        kind = rng.random()
        if kind < 0.6:
            body = {
                "code": market.ids[s],
                "from": str(dates[start]),
                "to": str(dates[start + m - 1]),
            }
        else:
            closes = np.asarray(market.series_closes(s)[start : start + m])
            body = {"prices": [round(float(v), 2) for v in closes]}
        if kind > 0.9:
            body["mode"] = "latest"
        body["k"] = 10
        bodies.append(body)
    return bodies


def serve(args, env) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn),
        "stocksite.wsgi:application",
        "--workers",
        str(args.workers),
        "--bind",
        f"127.0.0.1:{args.port}",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(base: str, server: subprocess.Popen, seconds: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code in (200, 503):
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer")


def client_loop(base, token, bodies, seed, phase, out, lock):
    """Send searches until the phase ends: back to back, or on a fixed schedule when paced.

    Paced latency runs from the scheduled send time, so a slow answer that delays the next
    request counts against the server (no coordinated omission).
    """
    import httpx

    rng = random.Random(seed)
    local = []
    interval = phase["interval"]
    scheduled = phase["start"] + phase["offset"]
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Token {token}"}, timeout=30
    ) as client:
        while True:
            if interval:
                if scheduled >= phase["stop"]:
                    break
                if time.monotonic() >= phase["stop"] + MAX_LAG_SECONDS:
                    # Far behind schedule: the searches still due were never sent.
                    while scheduled < phase["stop"]:
                        if scheduled >= phase["measure_from"]:
                            local.append((None, "not sent in time", None, None))
                        scheduled += interval
                    break
                time.sleep(max(0.0, scheduled - time.monotonic()))
                started = scheduled
                scheduled += interval
            else:
                started = time.monotonic()
                if started >= phase["stop"]:
                    break
            body = rng.choice(bodies)
            try:
                response = client.post("/api/v1/search/", json=body)
                status = response.status_code
                server_ms = response.json().get("elapsed_ms") if status == 201 else None
            except httpx.HTTPError as exc:
                status, server_ms = type(exc).__name__, None
            finished = time.monotonic()
            if started >= phase["measure_from"]:
                local.append((finished - started, status, server_ms, "code" in body))
    with lock:
        out.extend(local)


def server_cpu_seconds(server: subprocess.Popen) -> float:
    """User + system CPU of gunicorn's master and workers so far, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in [server.pid, *_children(server.pid)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def run_phase(
    base, tokens, bodies, args, *, rate: float | None, warmup: float, duration: float
) -> list:
    """One phase: `warmup` seconds, then `duration` seconds measured, from every client."""
    results, lock = [], threading.Lock()
    start = time.monotonic()
    phase = {
        "start": start,
        "measure_from": start + warmup,
        "stop": start + warmup + duration,
        "interval": args.clients / rate if rate else 0.0,
        "offset": 0.0,
    }
    threads = []
    for i in range(args.clients):
        # Paced clients are spread evenly over one interval.
        client_phase = {**phase, "offset": phase["interval"] * i / args.clients}
        threads.append(
            threading.Thread(
                target=client_loop,
                args=(base, tokens[i], bodies, args.seed + i, client_phase, results, lock),
            )
        )
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def percentile(values, q):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def main():
    args = parse_args()
    env = environment(args)
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    database_create(args.database_url)
    tokens = prepare(args)
    bodies = request_bodies(args.seed)

    from similarity.snapshot import snapshot_current

    snapshot = snapshot_current()
    print(
        f"market: {len(snapshot.market)} stocks, {snapshot.market.size:,} closes up to "
        f"{snapshot.date}; gunicorn {args.workers} workers; {args.clients} clients; "
        f"{os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    args.port = args.port or free_port()
    base = f"http://127.0.0.1:{args.port}"
    server = serve(args, env)
    try:
        wait_until_up(base, server)
        # Warm-up: every worker loads the snapshot and the libraries on its first searches.
        run_phase(base, tokens, bodies, args, rate=None, warmup=args.warmup, duration=0)
        cpu_before = server_cpu_seconds(server)
        client_before = _own_cpu_seconds()
        saturated = run_phase(
            base, tokens, bodies, args, rate=None, warmup=0, duration=args.duration
        )
        cpu_saturated = server_cpu_seconds(server) - cpu_before
        cpu_clients = _own_cpu_seconds() - client_before
        paced = run_phase(
            base, tokens, bodies, args, rate=args.rate, warmup=2.0, duration=args.duration
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    report(saturated, args, title=f"{args.clients} clients back to back (saturation)", paced=False)
    answered = sum(1 for r in saturated if r[1] == 201) or 1
    per_search, per_client = cpu_saturated / answered, cpu_clients / answered
    print(f"{'server CPU per search (ms)':<34} {per_search * 1000:>12.1f}")
    print(f"{'client CPU per search (ms)':<34} {per_client * 1000:>12.1f}")
    print(
        f"(on {os.cpu_count()} otherwise idle cores: about "
        f"{os.cpu_count() / (per_search + per_client):.0f} searches/s at saturation)"
    )
    report(
        paced,
        args,
        title=f"{args.clients} clients paced at {args.rate:g} searches/s in all",
        paced=True,
    )
    print(f"load average after the run (1, 5, 15 min): {os.getloadavg()}")


def report(results, args, *, title: str, paced: bool):
    """Print one phase. Paced searches never sent because the clients fell more than
    MAX_LAG_SECONDS behind schedule count as errors."""
    ok = [r for r in results if r[1] == 201]
    errors = [r for r in results if r[1] != 201]
    latencies = [r[0] * 1000 for r in ok]
    print()
    print(title)
    print(f"{'measure':<34} {'value':>12}")
    print(f"{'-' * 34} {'-' * 12}")
    print(f"{'searches answered (201)':<34} {len(ok):>12}")
    print(f"{'errors':<34} {len(errors):>12}")
    print(f"{'answered per second':<34} {len(ok) / args.duration:>12.1f}")
    if latencies:
        for q in (50, 90, 95, 99):
            print(f"{f'latency p{q} (ms)':<34} {percentile(latencies, q):>12.1f}")
        print(f"{'latency max (ms)':<34} {max(latencies):>12.1f}")
        server = [r[2] for r in ok if r[2] is not None]
        print(f"{'server time in service, median (ms)':<34} {statistics.median(server):>12.1f}")
        by_stock = [r[0] * 1000 for r in ok if r[3]]
        by_prices = [r[0] * 1000 for r in ok if not r[3]]
        if by_stock:
            print(f"{'p95, stock-range patterns (ms)':<34} {percentile(by_stock, 95):>12.1f}")
        if by_prices:
            print(f"{'p95, pasted prices (ms)':<34} {percentile(by_prices, 95):>12.1f}")
    if errors:
        kinds = {}
        for r in errors:
            kinds[r[1]] = kinds.get(r[1], 0) + 1
        print(f"error kinds: {kinds}")
    if paced:
        goal = bool(latencies) and percentile(latencies, 95) <= 150 and not errors
        print(f"goal (p95 <= 150 ms, no errors): {'met' if goal else 'NOT met'}")
    else:
        goal = len(ok) / args.duration >= 40 and not errors
        print(f"goal (>= 40 searches/s, no errors): {'met' if goal else 'NOT met'}")


if __name__ == "__main__":
    main()
