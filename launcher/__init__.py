"""`portico serve`: the sidecar and the Sanic frontend started, watched and stopped together.

One concept per module:

- `flags`: the command line: the launcher's flags, the frontend's (frontend.config.SETTINGS,
  handed over as PORTICO_ variables), refused and misspelt flags; the rest goes to the sidecar.
- `sidecar`: the sidecar's command line (the embedded model's defaults) and the handshake probe.
- `processes`: starting a child that dies with the launcher, stopping one, naming an exit.
- `supervisor`: restarting a crashed sidecar with backoff, and when to give up.
- `__main__`: `main()`, the two processes' lifecycle (`python -m launcher`, `portico-serve`).
"""
