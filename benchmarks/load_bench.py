"""Load test of the whole site: gunicorn, 8 clients for 60 s, pages, API searches and logins.

    python benchmarks/load_bench.py [--clients 8] [--duration 60] [--workers 3]

Uses http_bench.py's scratch database, market, snapshot, Pro users and gunicorn (its pieces, not a
copy). Each client is one person: it signs in through the login form (CSRF token and all), then,
until the time is up, picks its next request at random: a page (home, pricing, stock list, a
stock's chart page, the search form, the account page), an API search with its token, or a new
sign-in (at most one a client every LOGIN_EVERY seconds: allauth allows 30 logins a minute from
one address, and all clients share 127.0.0.1). Requests go back to back, so the figures are those
of a saturated server.

It prints, overall and per kind, the requests answered, the errors (any 4xx or 5xx, a login that
does not reach the account page, or a transport error: the goal is 0) and the latency
percentiles. Nothing here is a test: the numbers depend on the machine.
"""

import argparse
import os
import random
import re
import signal
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import http_bench  # noqa: E402

PASSWORD = "load-bench-Passphrase-2026"
LOGIN_EVERY = 20.0  # seconds between a client's sign-ins
MIX = (("page", 0.55), ("search", 0.35), ("login", 0.10))
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before measuring")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/stocksite_httpbench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--data", type=Path, default=http_bench.DEFAULT_DATA)
    parser.add_argument(
        "--snapshot-dir", type=Path, default=http_bench.REPO / "var" / "httpbench-snapshot"
    )
    parser.add_argument("--seed", type=int, default=11)
    return parser.parse_args()


def environment(args) -> dict:
    env = http_bench.environment(args)
    # Production settings over plain http on loopback: cookies without the Secure flag; static
    # URLs without the manifest that collectstatic writes in the image.
    env.update(SESSION_COOKIE_SECURE="0", CSRF_COOKIE_SECURE="0", STATIC_MANIFEST="0")
    return env


def prepare(args) -> tuple[list[str], list[str], list[str]]:
    """http_bench's users and market, plus a password, a verified email and a token each (made
    after the password: a new password ends a token)."""
    http_bench.prepare(args)
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from accounts.services import api_token_rotate
    from market.models import Stock

    emails = [f"bench{index}@example.com" for index in range(args.clients)]
    User.objects.filter(email__in=emails).update(password=make_password(PASSWORD))
    for user in User.objects.filter(email__in=emails):
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
    tokens = [api_token_rotate(user=User.objects.get(email=email)) for email in emails]
    codes = list(Stock.objects.filter(is_listed=True).values_list("code", flat=True)[:200])
    return tokens, emails, codes


def sign_in(client, email: str) -> bool:
    form = client.get("/accounts/login/")
    token = CSRF_INPUT.search(form.text)
    if form.status_code != 200 or not token:
        return False
    response = client.post(
        "/accounts/login/",
        data={"login": email, "password": PASSWORD, "csrfmiddlewaretoken": token[1]},
        headers={"Referer": str(client.base_url) + "/accounts/login/"},
    )
    return response.status_code == 302 and response.headers.get("location", "").endswith(
        "/account/"
    )


def client_loop(base, email, token, bodies, codes, seed, phase, out, lock):
    import httpx

    rng = random.Random(seed)
    pages = ["/", "/pricing/", "/stocks/", "/search/", "/account/"]
    local = []
    kinds, weights = zip(*MIX, strict=True)
    with httpx.Client(base_url=base, timeout=30) as client:
        sign_in(client, email)
        last_login = time.monotonic()
        while (started := time.monotonic()) < phase["stop"]:
            kind = rng.choices(kinds, weights)[0]
            if kind == "login" and started - last_login < LOGIN_EVERY:
                kind = "page"
            try:
                if kind == "login":
                    client.post("/accounts/logout/", data={}, headers=_csrf_header(client))
                    ok = sign_in(client, email)
                    last_login = time.monotonic()
                elif kind == "search":
                    response = client.post(
                        "/api/v1/search/",
                        json=rng.choice(bodies),
                        headers={"Authorization": f"Token {token}"},
                    )
                    ok = response.status_code == 201
                else:
                    path = rng.choice([*pages, f"/stocks/{rng.choice(codes)}/"])
                    ok = client.get(path).status_code == 200
                outcome = "ok" if ok else "error"
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            if started >= phase["measure_from"]:
                local.append((kind, time.monotonic() - started, outcome))
    with lock:
        out.extend(local)


def _csrf_header(client) -> dict:
    return {"X-CSRFToken": client.cookies.get("csrftoken", ""), "Referer": str(client.base_url)}


def report(results, duration: float) -> None:
    by_kind = defaultdict(list)
    for kind, seconds, outcome in results:
        by_kind[kind].append((seconds, outcome))
        by_kind["all"].append((seconds, outcome))
    print()
    print(
        f"{'kind':<8} {'answered':>9} {'per s':>7} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8}"
    )
    for kind in ("all", "page", "search", "login"):
        rows = by_kind.get(kind, [])
        if not rows:
            continue
        latencies = [seconds * 1000 for seconds, _ in rows]
        errors = sum(1 for _, outcome in rows if outcome != "ok")
        print(
            f"{kind:<8} {len(rows):>9} {len(rows) / duration:>7.1f} {errors:>7} "
            f"{http_bench.percentile(latencies, 50):>8.0f} "
            f"{http_bench.percentile(latencies, 95):>8.0f} "
            f"{http_bench.percentile(latencies, 99):>8.0f}"
        )
    kinds = defaultdict(int)
    for _, _, outcome in results:
        if outcome != "ok":
            kinds[outcome] += 1
    if kinds:
        print(f"error kinds: {dict(kinds)}")
    print(f"goal (no errors): {'met' if not kinds else 'NOT met'}")


def main():
    args = parse_args()
    env = environment(args)
    os.environ.update(env)
    sys.path.insert(0, str(http_bench.REPO))
    http_bench.database_create(args.database_url)
    tokens, emails, codes = prepare(args)
    bodies = http_bench.request_bodies(args.seed)
    print(
        f"gunicorn {args.workers} workers; {args.clients} clients for {args.duration:g} s after "
        f"{args.warmup:g} s of warm-up; {os.cpu_count()} cores; load average before: "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )
    args.port = args.port or http_bench.free_port()
    base = f"http://127.0.0.1:{args.port}"
    server = http_bench.serve(args, env)
    results, lock = [], threading.Lock()
    try:
        # Each worker attaches the snapshot and loads the search kernels before it answers: on a
        # busy machine that takes longer than http_bench's 30 s.
        http_bench.wait_until_up(base, server, seconds=300)
        start = time.monotonic()
        phase = {"measure_from": start + args.warmup, "stop": start + args.warmup + args.duration}
        threads = [
            threading.Thread(
                target=client_loop,
                args=(
                    base,
                    emails[i],
                    tokens[i],
                    bodies,
                    codes,
                    args.seed + i,
                    phase,
                    results,
                    lock,
                ),
            )
            for i in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except http_bench.subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    report(results, args.duration)
    print(f"load average after the run (1, 5, 15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()
