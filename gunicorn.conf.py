"""gunicorn settings read from the working directory (the image's WORKDIR and the benchmarks').

Command-line options (bind, workers) still come from the Dockerfile and docker-compose.yml.
"""


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
