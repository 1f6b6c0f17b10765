"""gunicorn settings read from the working directory (the image's WORKDIR and the benchmarks').

Command-line options (bind, workers) still come from the Dockerfile and docker-compose.yml.
"""

import os
import subprocess
import sys
from pathlib import Path

# A first pull of a whole-market snapshot (hundreds of MB) on a slow link, at most.
PULL_ON_START_SECONDS = 15 * 60

# Forwarded headers (X-Forwarded-Proto, -For) are trusted only when a proxy is declared with
# TRUSTED_PROXY_COUNT, the setting Django, DRF and allauth read, and then only from the proxy's
# addresses (FORWARDED_ALLOW_IPS; default: a proxy on the same host). Never from anyone ('*').
forwarded_allow_ips = (
    os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
    if int(os.environ.get("TRUSTED_PROXY_COUNT", "0") or 0) > 0
    else ""
)


def on_starting(server):
    """Before the workers fork, a host with no snapshot yet pulls one from the store (a new web
    host behind the load balancer); with a snapshot there, or no store configured, the command
    returns at once (a second of Django start-up).

    The pull runs as its own process, so the master imports no Django whose connections and
    state the workers would inherit. Nothing here stops gunicorn from starting: after a failure
    the workers serve every page, searches answer 503, and the host's puller brings a snapshot."""
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "snapshot_pull", "--if-missing"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=PULL_ON_START_SECONDS,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        server.log.error("snapshot pull on start did not finish: %s", exc)
        return
    output = (result.stdout + result.stderr).strip()[-1000:]
    if result.returncode == 0:
        server.log.info("snapshot pull on start: %s", output)
    else:
        server.log.error("snapshot pull on start failed: %s", output)


def post_worker_init(worker):
    """Before a worker takes requests, attach the similarity snapshot and load the engine's
    compiled kernels, so that the first search it serves takes milliseconds, not seconds.

    Nothing here may stop the worker from booting: a worker that cannot attach a snapshot still
    serves every page, and its searches answer 503 until a good snapshot is there."""
    from similarity.snapshot import warm_up_process

    try:
        attached = warm_up_process()
    except Exception:
        worker.log.exception("the similarity snapshot could not be attached; searches answer 503")
        return
    if attached:
        worker.log.info("similarity snapshot attached and search kernels loaded")
    else:
        worker.log.info("no intact similarity snapshot; searches answer 503 until one is built")
