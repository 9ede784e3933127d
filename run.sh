#!/usr/bin/env bash
# One entry point that sets everything up and then does one thing:
#   ./run.sh app     set up, then start the app on http://localhost:8501
#   ./run.sh test    set up, then run lint, type checks and the whole test suite
#   ./run.sh bench   set up, then print the benchmark figures (python -m core bench ...)
#   ./run.sh setup   set up only
# Setting up = install the Debian packages in packages.txt that are missing, create .venv and
# install the pinned Python dependencies. Each step is skipped when nothing changed, so a
# re-run starts in seconds.
set -euo pipefail
cd "$(dirname "$0")"

setup() {
  local missing=() pkg
  for pkg in $(grep -v '^\s*#' packages.txt); do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "Installing system packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  local python="${PYTHON:-}"
  if [ -z "$python" ]; then
    python=$(command -v python3.11 || command -v python3)
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv with $python"
    "$python" -m venv .venv
  fi
  # basic-pitch 0.4.0 pins tensorflow<2.15.1, which cannot live beside Keras 3. We install it
  # without its dependencies (requirements-nodeps.txt) and use its bundled ONNX model through
  # onnxruntime, which requirements.txt pins.
  local want have=""
  want=$(cat requirements.txt requirements-nodeps.txt | sha256sum | cut -d' ' -f1)
  [ -f .venv/.requirements.sha256 ] && have=$(cat .venv/.requirements.sha256)
  if [ "$want" != "$have" ]; then
    echo "Installing pinned Python dependencies into .venv"
    .venv/bin/python -m pip install -q -r requirements.txt
    .venv/bin/python -m pip install -q --no-deps -r requirements-nodeps.txt
    echo "$want" > .venv/.requirements.sha256
  fi
}

cmd="${1:-app}"
shift || true
setup
case "$cmd" in
  setup) ;;
  app)
    # A TUNESMITH_* value that cannot be used stops here, before the server starts: one line
    # per value on stderr, exit status 2 (docs/limits.md#settings).
    .venv/bin/python -m core check-settings
    exec .venv/bin/python -m streamlit run streamlit_app.py --server.port "${PORT:-8501}" "$@"
    ;;
  test)
    .venv/bin/ruff check core ui app_pages tests scripts benchmarks deploy streamlit_app.py
    .venv/bin/ruff format --check core benchmarks
    .venv/bin/mypy core ui app_pages deploy streamlit_app.py
    exec .venv/bin/python -m pytest "$@"
    ;;
  bench) exec .venv/bin/python -m core bench "$@" ;;
  *) echo "usage: ./run.sh [app|test|bench|setup]" >&2; exit 2 ;;
esac
