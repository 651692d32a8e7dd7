# Yishi's image: the package and its dependencies in a virtual environment, run as an unprivileged
# user. Build: `docker build -t yishi .`; run with compose.yaml (PostgreSQL beside it).

# --- builder: install the project into /opt/venv (wheels only: no compiler needed or kept) ---
FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
WORKDIR /src
# pyproject.toml names README.md as the long description, so the build needs it.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
COPY handlers ./handlers
COPY scheduler ./scheduler
RUN /opt/venv/bin/pip install . \
    && /opt/venv/bin/yishi --help >/dev/null

# --- final: the same base, the venv, nothing else ---
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/app \
    YISHI_LOG_FORMAT=json \
    YISHI_LISTEN=0.0.0.0:8443
RUN groupadd --system --gid 10001 yishi \
    && useradd --system --uid 10001 --gid yishi --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin yishi
COPY --from=builder /opt/venv /opt/venv
# The script is executable in git (tests/test_packaging.py checks); COPY keeps the mode.
COPY scripts/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
# The working directory holds what yishi writes by default: the SQLite file when no
# YISHI_DATABASE_URL is given, reports, matplotlib's font cache (HOME).
WORKDIR /app
RUN chown yishi:yishi /app
USER 10001:10001

# Telegram's webhook, /healthz and /metrics share this port (YISHI_LISTEN).
EXPOSE 8443
# slim has no curl: ask /healthz with Python. 200 means the database answers and the sender
# runs; 503 (raised as HTTPError) or no answer means unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('YISHI_LISTEN', ':8443').rpartition(':')[2]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]

ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["serve"]
