#!/usr/bin/env bash
# ensure-postgres.sh — make sure PostgreSQL's server binaries (initdb, pg_ctl, postgres) are
# installed for plait's PostgreSQL tests. Idempotent and quick when they are already there.
#
# Tests start their own throwaway cluster (plait_postgres.testing), so no server is started
# here. Installs Debian's `postgresql` package when initdb cannot be found (apt-get update
# first only when apt does not know the package or cannot fetch it). Prints the directory
# holding the server binaries on stdout, nothing else; progress goes to stderr.
set -euo pipefail

log() { printf 'ensure-postgres: %s\n' "$*" >&2; }
die() { printf 'ensure-postgres: ERROR: %s\n' "$*" >&2; exit 1; }

bin_dir() {  # newest /usr/lib/postgresql/N/bin with initdb, else the directory of initdb on PATH
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | while read -r d; do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && echo "$d"; done | tail -n 1)
    if [ -z "$dir" ] && command -v initdb >/dev/null; then
        dir=$(dirname "$(readlink -f "$(command -v initdb)")")
    fi
    [ -n "$dir" ] && echo "$dir"
}

if ! dir=$(bin_dir); then
    [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed and installing it requires root"
    command -v apt-get >/dev/null || die "apt-get not found; install PostgreSQL's server manually"
    install() {
        log "apt-get install postgresql"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            postgresql >&2
    }
    update() {
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
    }
    # Package lists only when apt does not know the package, or they are too old to install it.
    if ! apt-cache show postgresql >/dev/null 2>&1; then update; fi
    install || { update && install; } || die "apt-get install postgresql failed"
    dir=$(bin_dir) || die "postgresql installed but no initdb found under /usr/lib/postgresql"
fi
echo "$dir"
