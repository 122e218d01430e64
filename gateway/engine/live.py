"""Permissions that ``reload_config`` can replace while the daemon runs.

Every engine (one per API profile) and every mod_rest resource keeps the one
:class:`LivePermissions` object it was built with, so replacing its rules in
place reaches all of them at once.  The replacement is a single assignment
made on the reactor thread, where every check also runs: a check sees either
the old rules or the new ones, never a mixture.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from gateway.engine.acl import AccessControl, AccessRule, Matcher
from gateway.engine.model import Caller, CommandDefinition
from gateway.engine.permissions import ApiPermission, Permissions

if TYPE_CHECKING:
    from gateway.config.model import Config

__all__ = ["LivePermissions"]


class LivePermissions(Permissions):
    """:class:`Permissions` whose rules, ACLs and access rules can be swapped.

    Built like :class:`Permissions` (``LivePermissions.from_config(config)``
    works too); :meth:`replace` installs the rules of another instance.
    """

    def __init__(
        self,
        rules: Sequence[ApiPermission] | None,
        acls: Mapping[str, Sequence[Matcher]] | None = None,
        access_rules: Mapping[str, AccessRule] | None = None,
        hosts: Iterable[str] = (),
    ) -> None:
        super().__init__(rules, acls, access_rules, hosts)
        self._state: tuple[tuple[ApiPermission, ...], AccessControl] = (self.rules, self.control)

    @classmethod
    def from_config(cls, config: Config) -> LivePermissions:
        return cls(config.api_permissions, config.acl, config.access_rules, config.hosts)

    def replace(self, new: Permissions) -> None:
        """Decide every later call by ``new``'s rules."""
        self._state = (new.rules, new.control)
        # kept in step for readers of the plain attributes
        self.rules, self.control = self._state

    def matching_rule(self, caller: Caller, definition: CommandDefinition) -> ApiPermission | None:
        rules, control = self._state  # one snapshot per check
        for rule in rules:
            if rule.allows(caller, definition, control):
                return rule
        return None

    def allows(self, caller: Caller, definition: CommandDefinition) -> bool:
        return self.matching_rule(caller, definition) is not None

    def access_allows(self, rule_name: str, caller: Caller) -> bool:
        _, control = self._state
        return control.rule_allows(rule_name, caller)
