"""gunicorn settings read from the working directory (the image's WORKDIR and the benchmarks').

Command-line options (bind, workers) still come from the Dockerfile and docker-compose.yml.
"""


def post_worker_init(worker):
    """Before a worker takes requests, attach the similarity snapshot and load the engine's
    compiled kernels, so that the first search it serves takes milliseconds, not seconds."""
    from similarity.snapshot import warm_up_process

    if warm_up_process():
        worker.log.info("similarity snapshot attached and search kernels loaded")
    else:
        worker.log.info("no similarity snapshot yet; searches answer 503 until one is built")
