#!/usr/bin/env bash
# ensure-chromium.sh — make sure Debian's `chromium` (and fonts, so pages render text) is
# installed for plait's browser tests. Idempotent and quick when they are already there.
#
# The tests drive it through Playwright's Python API with `executable_path`; Playwright's own
# browser download (`playwright install`) is never used. Installs the Debian packages when any
# is missing (apt-get update first only when apt does not know the package, or when the install
# fails on stale package lists). Prints the executable's path on stdout, nothing else; progress
# goes to stderr.
set -euo pipefail

log() { printf 'ensure-chromium: %s\n' "$*" >&2; }
die() { printf 'ensure-chromium: ERROR: %s\n' "$*" >&2; exit 1; }

PACKAGES=(chromium fonts-liberation fonts-dejavu-core)

find_chromium() {
    local candidate
    for candidate in /usr/bin/chromium "$(command -v chromium 2>/dev/null || true)"; do
        [ -n "$candidate" ] && [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
    return 1
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

apt_update() {
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
}
apt_install() {
    log "apt-get install ${PACKAGES[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${PACKAGES[@]}" >&2
}

missing=()
for package in "${PACKAGES[@]}"; do
    installed "$package" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ] || ! find_chromium >/dev/null; then
    [ "$(id -u)" = 0 ] || die "installing ${missing[*]:-chromium} requires root"
    command -v apt-get >/dev/null || die "apt-get not found; install ${PACKAGES[*]} manually"
    updated=0
    if ! apt-cache show chromium >/dev/null 2>&1; then
        apt_update
        updated=1
    fi
    # Package lists older than chromium's latest security update name files the mirror no
    # longer has: refresh them once and try again.
    if ! apt_install; then
        [ "$updated" = 0 ] || die "apt-get install ${PACKAGES[*]} failed"
        apt_update
        apt_install || die "apt-get install ${PACKAGES[*]} failed"
    fi
fi
find_chromium || die "chromium installed but no executable found"
