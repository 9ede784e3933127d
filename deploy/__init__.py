"""Running Tunesmith as several replicas behind a sticky proxy (docs/replicas.md).

`nginx.conf.template` is the proxy's configuration; `replicas.py` fills it in and runs
replicas and nginx on one machine (`python -m deploy.replicas`); the repository's compose.yaml
runs the same thing in containers.
"""
