#!/usr/bin/env bash
# First step of `npm test`: make sure the Debian packages the tests drive are here.
#   chromium     - the browser tests run Debian's Chromium through playwright-core (which cannot download browsers
#                  here); $CHROMIUM_PATH points at another one.
#   python3-zmq  - the tutorial's Python clients and the generated Python programs run under Debian's
#                  /usr/bin/python3; $PLAYGROUND_PYTHON points at another python3 that has zmq.
#   postgresql   - the PostgreSQL store's tests start a throw-away cluster with Debian's server binaries
#                  (/usr/lib/postgresql/<version>/bin; scripts/throwaway-postgres.ts); $PG_BIN points at others.
#   haproxy      - e2e/cluster.test.ts runs `npm run cluster` (scripts/cluster.ts), which puts Debian's HAProxy in
#                  front of two instances; $HAPROXY points at another haproxy binary.
# When something is missing: as root, install it (non-interactive, waiting for a held dpkg lock); otherwise print
# one line with the command to run and fail, so that no test runs without what it needs.
set -euo pipefail

missing=()
if [ -n "${CHROMIUM_PATH:-}" ]; then
  if [ ! -x "$CHROMIUM_PATH" ]; then
    echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable: point it at a Chromium, or unset it to use Debian's chromium" >&2
    exit 1
  fi
elif [ ! -x /usr/bin/chromium ]; then
  missing+=(chromium)
fi
if [ -n "${PLAYGROUND_PYTHON:-}" ]; then
  if ! "$PLAYGROUND_PYTHON" -c 'import zmq' >/dev/null 2>&1; then
    echo "PLAYGROUND_PYTHON=$PLAYGROUND_PYTHON cannot import zmq: install pyzmq for it, or unset it to use Debian's python3-zmq" >&2
    exit 1
  fi
elif ! /usr/bin/python3 -c 'import zmq' >/dev/null 2>&1; then
  missing+=(python3-zmq)
fi

if [ -n "${PG_BIN:-}" ]; then
  if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/postgres" ]; then
    echo "PG_BIN=$PG_BIN holds no initdb and postgres: point it at PostgreSQL's bin folder, or unset it to use Debian's postgresql" >&2
    exit 1
  fi
elif ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  missing+=(postgresql)
fi

if [ -n "${HAPROXY:-}" ]; then
  if [ ! -x "$HAPROXY" ]; then
    echo "HAPROXY=$HAPROXY is not an executable: point it at a haproxy binary, or unset it to use Debian's haproxy" >&2
    exit 1
  fi
elif ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then
  missing+=(haproxy)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

install_command="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "npm test needs the Debian packages ${missing[*]}; run: sudo apt-get update && sudo $install_command" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "npm test needs ${missing[*]} (Debian package names) and this machine has no apt-get: install them, or set CHROMIUM_PATH / PLAYGROUND_PYTHON / PG_BIN / HAPROXY" >&2
  exit 1
fi

echo "installing the Debian packages the tests need: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
started=$SECONDS
apt-get -o DPkg::Lock::Timeout=300 update -q </dev/null
apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}" </dev/null
echo "installed ${missing[*]} in $((SECONDS - started))s"
