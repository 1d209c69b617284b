# The bot in a container. With compose.yaml: `docker compose up -d --build` (see README).
# It runs only what CI runs on every change: deploy/install.sh (also run by the Makefile), then the
# normal start command. Settings come from the environment (compose's env_file: .env), never the image.
FROM python:3.11-slim

# Where pip downloads from; pass a closer mirror with --build-arg when PyPI is slow to reach.
ARG PIP_INDEX_URL=https://pypi.org/simple

WORKDIR /app
COPY . .
RUN sh deploy/install.sh

ENV PYTHONUNBUFFERED=1
# The SQLite file, workflows.toml and backups: kept out of the image, in a volume or a bind mount.
VOLUME ["/app/data"]
# The bot finishes cleanly on SIGTERM (what `docker stop` sends); exec form makes Python PID 1,
# so the signal reaches it and not a shell.
STOPSIGNAL SIGTERM
CMD [".venv/bin/python", "-m", "bot", "run"]
