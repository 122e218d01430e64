"""Where the tests find the repository's files, wherever a test module sits below ``tests/``."""

from __future__ import annotations

from pathlib import Path

#: the repository's root directory
REPO = Path(__file__).resolve().parents[1]
#: ejabberd's own command tables and help texts, the reference the catalogue is checked against
DATA = REPO / "tests" / "data"
#: the configuration shipped in ``conf/``
SHIPPED_CONFIG = REPO / "conf" / "gateway.yml"
