"""Frontends: one per ejabberd API dialect, each decoding calls for the engine."""
