# The crosstrack service image: `crosstrack serve` by default; docker-compose.yml also runs
# `crosstrack migrate` from it as a one-shot service.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . .
RUN pip install . && useradd --create-home --uid 10001 crosstrack
USER crosstrack

EXPOSE 8000
CMD ["crosstrack", "serve", "--host", "0.0.0.0"]
