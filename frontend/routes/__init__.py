"""Thin route blueprints; `register(app)` mounts them all."""

from sanic import Sanic

from . import models, ops, responses


def register(app: Sanic) -> None:
    app.blueprint(responses.bp)
    app.blueprint(models.bp)
    app.blueprint(ops.bp)
