# Tunesmith in a container: the app on port 8501, its data (workspaces, models, jobs, caches) on
# a volume at /data. Untested here (no Docker on the machine that wrote it); see README "Deploy".
#
#   docker build -t tunesmith .
#   docker run -p 8501:8501 -v tunesmith-data:/data tunesmith
#
# The same image runs a training worker of a shared queue (README "More than one server").
FROM python:3.11-slim-bookworm

ENV DEBIAN_FRONTEND=noninteractive \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    TF_CPP_MIN_LOG_LEVEL=2

WORKDIR /app

# Debian packages from packages.txt, as run.sh installs them, except those a server does not
# need: Chromium drives only the end-to-end test, Redis and nginx run as their own containers
# (compose.yaml), and python3-venv is Debian's own Python's venv
# (this image's Python at /usr/local has venv built in; the package would pull in a second
# Python). Build with --build-arg APT_SKIP="" to install every one.
ARG APT_SKIP="chromium python3-venv redis-server nginx"
COPY packages.txt ./
RUN pkgs=$(grep -vE '^[[:space:]]*(#|$)' packages.txt \
           | grep -vxE "${APT_SKIP:+$(echo $APT_SKIP | tr ' ' '|')}" || true) \
    && apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends $pkgs \
    && rm -rf /var/lib/apt/lists/*

# The virtual environment exactly as run.sh's setup makes it: the pinned requirements, then
# basic-pitch without its dependencies (its tensorflow<2.15.1 pin cannot live beside Keras 3;
# the app uses only its bundled ONNX model, through onnxruntime).
COPY requirements.txt requirements-nodeps.txt ./
RUN python3.11 -m venv .venv \
    && .venv/bin/python -m pip install -q -r requirements.txt \
    && .venv/bin/python -m pip install -q --no-deps -r requirements-nodeps.txt \
    && cat requirements.txt requirements-nodeps.txt | sha256sum | cut -d' ' -f1 \
       > .venv/.requirements.sha256

COPY . .

# Not root: the app writes only under /data (and the user's home: Keras and matplotlib caches).
RUN useradd --create-home --uid 1000 tunesmith \
    && mkdir -p /data \
    && chown tunesmith:tunesmith /data
USER tunesmith

ENV TUNESMITH_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD [".venv/bin/python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]

# Not `./run.sh app`: its setup step would try to apt-get the skipped packages as a non-root user.
# The settings are checked first: an unusable TUNESMITH_* value stops the container with one
# sentence naming it (docs/limits.md#settings), rather than serving pages that refuse.
CMD ["sh", "-c", ".venv/bin/python -m core check-settings && exec .venv/bin/python -m streamlit run streamlit_app.py --server.port=8501 --server.address=0.0.0.0"]
