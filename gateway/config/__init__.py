"""Configuration: ejabberd's vocabulary plus the gateway's own section.

:mod:`.load` reads and validates the YAML file into the frozen records of
:mod:`.model`; the access policy is read by :mod:`.acl_parse` and
:mod:`.permissions_parse` into the engine's evaluators, with the key paths
of :mod:`.paths` naming any mistake (:class:`.errors.ConfigError`).
:mod:`.dump` writes the configuration in effect back as YAML.  Applying a
changed file to a running daemon is the service's job (:mod:`gateway.reload`).
"""
