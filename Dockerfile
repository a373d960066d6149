# The crosstrack service image: `crosstrack serve` by default; docker-compose.yml also runs
# `crosstrack migrate` and `crosstrack scheduler` from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Dependencies first, pinned and hash-checked: this layer is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
# Then the code, without resolving anything again.
COPY . .
RUN pip install --no-deps . && useradd --no-create-home --uid 10001 --user-group crosstrack
# Numeric, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 10001:10001

EXPOSE 8000
# Ready = the database answers and the app is serving (the scheduler service disables this check).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=3)"]
CMD ["crosstrack", "serve", "--host", "0.0.0.0"]
