#!/bin/sh
# Install what the test suite needs, then run all of it: lint, types, unit and
# integration tests.  Needs root (or sudo) for Debian's ejabberd, prosody and
# postgresql packages, which the integration tests start on loopback.
set -eu
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if command -v apt-get >/dev/null 2>&1; then
    # Keep the packages' own services from starting at install time: the tests
    # start private instances on loopback ports of their own.
    created_policy=no
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
        as_root chmod +x /usr/sbin/policy-rc.d
        created_policy=yes
    fi
    as_root apt-get update -q
    # erlang-p1-oauth2 is only suggested by ejabberd, whose oauth_* commands fail
    # without it; tests/compat compares those commands with the gateway's.
    # prosody-modules has mod_privilege (XEP-0356) for the xmpp backend's tests;
    # wrk drives bench/run.
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends \
        ejabberd erlang-p1-oauth2 prosody prosody-modules postgresql python3-venv curl wget \
        lynx php-cli chromium chromium-driver logrotate man-db wrk
    [ "$created_policy" = yes ] && as_root rm -f /usr/sbin/policy-rc.d
fi

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[test]'
# Legacy ejabberd clients for the compatibility tests: their pinned dependencies
# (enum34, future==0.15) would break a Python 3.11 environment, and they only need six.
.venv/bin/pip install -q --no-deps pyejabberd==0.2.11 ejabberd-python3d==0.2.3
.venv/bin/ruff check gateway twisted tests bench
.venv/bin/ruff format --check gateway twisted tests bench
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
