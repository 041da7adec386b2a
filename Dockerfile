# syntax=docker/dockerfile:1
# toir: one image for every process (`toir ingest`, `toir stream`, `toir api`, `toir db migrate`).
#
# Stage 1 builds wheels of toir and of its runtime dependencies (no `embedded`, no `dev`
# extra: production talks to real servers). Stage 2 installs only those wheels into a
# slim Python, with no compiler, no pip cache and no source tree, and runs as non-root.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY kernel ./kernel
COPY devices ./devices
COPY ingest ./ingest
COPY stream ./stream
COPY predictive ./predictive
COPY tickets ./tickets
COPY dashboards ./dashboards
COPY toir ./toir
RUN python -m pip wheel --wheel-dir /wheels .

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    TOIR_DATA_DIR=/var/lib/toir \
    TOIR_ENV=production
# A fixed uid/gid, so bind-mounted folders can be given to it (chown 10001).
RUN groupadd --system --gid 10001 toir \
    && useradd --system --uid 10001 --gid toir --home-dir /var/lib/toir --shell /usr/sbin/nologin toir \
    && install -d -o toir -g toir /var/lib/toir
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m pip install --no-index --find-links=/wheels toir \
    && python -m pip uninstall --yes pip setuptools wheel
USER toir
WORKDIR /var/lib/toir
# api, OsmAnd/Traccar HTTP receiver, ingest and stream health/metrics.
EXPOSE 8000 5055 9108 9109
ENTRYPOINT ["toir"]
CMD ["--help"]
