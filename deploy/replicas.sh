#!/usr/bin/env bash
# N Tunesmith replicas behind a sticky nginx on this machine, until Ctrl-C (docs/replicas.md):
#   ./deploy/replicas.sh [--replicas 2] [--port 8080] [--host 127.0.0.1] [--data-dir DIR] ...
# Needs the repository's .venv (./run.sh setup) and Debian's nginx (packages.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m deploy.replicas "$@"
