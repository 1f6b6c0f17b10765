# syntax=docker/dockerfile:1
# Production image: gunicorn serves the site; the same image runs the Celery worker and beat, and
# before them the one-off `migrate` and `install_schedule` (the `setup` service of docker-compose.yml).

FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY scripts/vendor.mjs scripts/vendor.mjs
RUN npm run --silent vendor

FROM python:3.11-slim AS messages
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY locale locale
RUN for po in locale/*/LC_MESSAGES/*.po; do msgfmt --check -o "${po%.po}.mo" "$po"; done

FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements.txt .
RUN python -m venv /venv && /venv/bin/pip install -r requirements.txt

FROM python:3.11-slim AS runtime
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=stocksite.settings \
    SIMILARITY_SNAPSHOT_DIR=/data/snapshot \
    NUMBA_CACHE_DIR=/data/snapshot/.numba-cache
RUN groupadd --system app && useradd --system --gid app --home-dir /app app \
    && mkdir -p /app/var /data/snapshot && chown -R app:app /app /data
WORKDIR /app
COPY --from=builder /venv /venv
COPY --chown=app:app . .
COPY --from=assets --chown=app:app /build/static/vendor static/vendor
COPY --from=messages --chown=app:app /build/locale locale
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && chown -R app:app /app/staticfiles /app/var
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
CMD ["gunicorn", "stocksite.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
