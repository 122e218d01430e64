"""The command engine: catalogue, versions, coercion, permissions and dispatch.

Nothing in this package knows a wire format; frontends decode into
:class:`~gateway.engine.model.CommandCall` and encode the
:class:`~gateway.engine.model.Result` they get back.
"""
