"""Thin route blueprints; `register(app)` mounts them all."""

from sanic import Sanic

from . import azure, input_tokens, models, ops, responses, stored, tool_outputs


def register(app: Sanic) -> None:
    app.blueprint(responses.bp)
    app.blueprint(stored.bp)
    app.blueprint(tool_outputs.bp)
    app.blueprint(input_tokens.bp)
    app.blueprint(models.bp)
    app.blueprint(ops.bp)
    app.blueprint(azure.bp)  # the same handlers under Azure OpenAI's URIs
