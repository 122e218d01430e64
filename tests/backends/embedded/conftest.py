"""Fixtures for the embedded backend's tests: the session's throwaway PostgreSQL cluster.

``postgres`` starts the cluster on first use (see :mod:`tests.backends.embedded.pg`);
``postgres_class`` hands it to a test class as ``cls.cluster``, which is how
:class:`~tests.backends.embedded.cases.PostgresCase` finds it.
"""

from tests.backends.embedded.pg import postgres, postgres_class

__all__ = ["postgres", "postgres_class"]
