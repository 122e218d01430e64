#!/bin/sh
# Install the gateway into .venv and start it in the background on the
# embedded SQLite store with conf/gateway.yml.  Stop it with:
#   kill "$(cat var/twistd.pid)"
set -eu
cd "$(dirname "$0")/.."

if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    # Debian ships venv separately.
    if [ "$(id -u)" = 0 ]; then apt-get install -y -q python3-venv; else sudo apt-get install -y -q python3-venv; fi
fi
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e .
# state (store, control socket, logs) is private to the daemon's user
mkdir -p -m 700 var
.venv/bin/twistd --pidfile var/twistd.pid --logfile var/twistd.log \
    xmpp-gateway --config conf/gateway.yml

# Wait until the HTTP listener answers, so the next command can use it.
for _ in $(seq 1 50); do
    if .venv/bin/python - <<'PY' 2>/dev/null
import urllib.request
urllib.request.urlopen(urllib.request.Request(
    "http://127.0.0.1:5280/api/status", data=b"{}", method="POST"), timeout=1)
PY
    then
        echo "xmpp-gateway is running (pid $(cat var/twistd.pid)); log: var/twistd.log"
        exit 0
    fi
    sleep 0.2
done
echo "xmpp-gateway did not answer on 127.0.0.1:5280; see var/twistd.log" >&2
exit 1
