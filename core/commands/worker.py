"""`python -m core worker`: train the jobs of the shared queue (`TUNESMITH_JOB_RUNNER=rq`).

Run one per training that may run at once, on any machine that mounts the data directory at the
same path as the app and reaches `TUNESMITH_REDIS_URL`. It stops after the job it is training
on SIGTERM or Ctrl-C (a second one stops it at once; the job then reads as stopped and resumes
from its checkpoint).
"""

from __future__ import annotations

import argparse

from core.jobs.worker import serve


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--burst", action="store_true", help="stop once the queue is empty (for scripts, tests)"
    )
    parser.add_argument("--name", help="the worker's name in Redis (default: RQ's own)")


def run(args: argparse.Namespace) -> int:
    serve(burst=args.burst, name=args.name)
    return 0
