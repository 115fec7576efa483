#!/usr/bin/env bash
# ensure-docker.sh — make sure a Docker engine and a `python:slim` image are
# available for plait's Docker tests and CI.  Idempotent; ~0.3 s when
# everything is already in place.
#
#   1. installs the Debian packages docker.io / debootstrap if missing;
#   2. starts dockerd in the background if nothing answers on the socket;
#   3. makes sure the image `python:slim` exists: docker load from the cache
#      tarball, or build it from scratch with debootstrap (no image registry
#      is needed) and save it to the cache tarball.
#
# On success the engine socket path is printed on stdout (everything else
# goes to stderr).  Exit status is non-zero on failure.
#
# Environment:
#   PLAIT_CACHE           cache dir (default ~/.cache/plait); holds
#                         dockerd.log and images/python-slim.tar
#   PLAIT_DOCKERD_FLAGS   extra/override flags for dockerd (word-split)
#   PLAIT_DEBIAN_MIRROR   Debian mirror for debootstrap (default: taken
#                         from /etc/apt/sources*, else deb.debian.org)
#   PLAIT_DEBIAN_SUITE    Debian suite for the image (default bookworm)
#   PLAIT_REBUILD_IMAGE=1 force rebuilding the image (ignores the tarball)
set -euo pipefail

CACHE="${PLAIT_CACHE:-$HOME/.cache/plait}"
SOCK=/var/run/docker.sock
IMAGE=python:slim
TARBALL="$CACHE/images/python-slim.tar"
DOCKERD_LOG="$CACHE/dockerd.log"
SUITE="${PLAIT_DEBIAN_SUITE:-bookworm}"
WAIT_SECS=60

log() { printf 'ensure-docker: %s\n' "$*" >&2; }
die() { printf 'ensure-docker: ERROR: %s\n' "$*" >&2; exit 1; }

# Always talk to the local socket, whatever DOCKER_HOST/contexts say.
dk() { docker -H "unix://$SOCK" "$@"; }
engine_up() { timeout 20 docker -H "unix://$SOCK" info >/dev/null 2>&1; }
have_image() { dk image inspect "$IMAGE" >/dev/null 2>&1; }

mkdir -p "$CACHE/images" || die "cannot create cache dir $CACHE"

# Serialise concurrent runs (parallel test workers, CI steps).
exec 9>"$CACHE/.ensure-docker.lock"
flock -w 1800 9 || die "timed out waiting for $CACHE/.ensure-docker.lock"

as_root_check() {
    [ "$(id -u)" = 0 ] || die "$1 requires root (run this script as root)"
}

# --------------------------------------------------------------------------
# 1. packages
# --------------------------------------------------------------------------
apt_updated=0
apt_install() {
    as_root_check "installing $*"
    command -v apt-get >/dev/null || die "apt-get not found; install $* manually"
    if [ "$apt_updated" = 0 ]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 \
            || die "apt-get update failed"
        apt_updated=1
    fi
    log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "$@" >&2 || die "apt-get install $* failed"
}

pkgs=()
if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    pkgs+=(docker.io)
fi
# debootstrap is only needed when the image has to be built from scratch,
# i.e. there is no cached tarball (checked again before building).
if ! command -v debootstrap >/dev/null && [ ! -s "$TARBALL" ]; then
    pkgs+=(debootstrap debian-archive-keyring)
fi
if [ "${#pkgs[@]}" -gt 0 ]; then
    apt_install "${pkgs[@]}"
fi

# --------------------------------------------------------------------------
# 2. engine
# --------------------------------------------------------------------------
# Liveness via /proc state: PID 1 in some sandboxes never reaps orphans, so a
# dead dockerd can linger as a zombie that kill -0 / pgrep still "see".
pid_alive() {
    local st
    st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]
}
dockerd_alive() {
    local f
    for f in /proc/[0-9]*; do
        [ "$(cat "$f/comm" 2>/dev/null)" = dockerd ] && pid_alive "${f#/proc/}" && return 0
    done
    return 1
}

start_dockerd() {  # args: extra dockerd flags; returns 0 once `docker info` works
    log "starting dockerd $* (log: $DOCKERD_LOG)"
    printf '\n==== %s: dockerd %s\n' "$(date -Is)" "$*" >>"$DOCKERD_LOG"
    # setsid: own session, so killing the caller's process group (CI step,
    # test runner) does not take the daemon down with it.
    # 9>&-: the daemon must not inherit (and hold forever) our lock fd.
    nohup setsid dockerd "$@" >>"$DOCKERD_LOG" 2>&1 </dev/null 9>&- &
    local pid=$! i
    for ((i = 0; i < WAIT_SECS * 2; i++)); do
        if engine_up; then return 0; fi
        if ! pid_alive "$pid"; then
            log "dockerd exited early; last log lines:"
            tail -n 15 "$DOCKERD_LOG" | sed 's/^/    /' >&2
            return 1
        fi
        sleep 0.5
    done
    log "dockerd did not answer within ${WAIT_SECS}s; stopping it"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 1
}

if ! engine_up; then
    as_root_check "starting dockerd"
    if dockerd_alive; then
        # Someone else's dockerd is starting up (or wedged): wait for it.
        log "dockerd is running but not answering yet; waiting up to ${WAIT_SECS}s"
        for ((i = 0; i < WAIT_SECS * 2; i++)); do
            engine_up && break
            sleep 0.5
        done
        engine_up || die "a dockerd process exists but $SOCK does not answer (see $DOCKERD_LOG)"
    elif [ -n "${PLAIT_DOCKERD_FLAGS:-}" ]; then
        # shellcheck disable=SC2086
        start_dockerd $PLAIT_DOCKERD_FLAGS \
            || die "dockerd failed with PLAIT_DOCKERD_FLAGS='$PLAIT_DOCKERD_FLAGS' (see $DOCKERD_LOG)"
    else
        # Default (overlay2 + bridge/NAT) works on this sandbox's kernel.
        # Fallbacks for more restricted kernels: vfs storage, then no
        # iptables/bridge (containers then need network_mode="host").
        start_dockerd \
            || start_dockerd --storage-driver=vfs \
            || start_dockerd --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none \
            || die "could not start dockerd (see $DOCKERD_LOG)"
    fi
fi

# --------------------------------------------------------------------------
# 3. image
# --------------------------------------------------------------------------
debian_mirror() {
    if [ -n "${PLAIT_DEBIAN_MIRROR:-}" ]; then echo "$PLAIT_DEBIAN_MIRROR"; return; fi
    local m
    # deb822 *.sources (URIs:/Suites: stanzas) and one-line *.list entries;
    # first non-security Debian URI that carries our suite.
    m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$SUITE" '
            function flush() { if (!done && u != "" && ss ~ ("(^| )" s "( |$)") && u !~ /security/) { print u; done = 1; exit } u = ""; ss = "" }
            /^[ \t]*$/ { flush(); next }
            /^URIs:/ { u = $2 }
            /^Suites:/ { $1 = ""; ss = $0 " " }
            END { flush() }') || true
    if [ -z "$m" ]; then
        m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk -v s="$SUITE" '
                $1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                              if ($(i + 1) == s && $i !~ /security/) { print $i; exit } }') || true
    fi
    echo "${m:-http://deb.debian.org/debian}"
}

unmount_under() {  # unmount everything mounted below $1 (deepest first)
    local d
    awk -v p="$1/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r |
        while read -r d; do umount -l "$d" 2>/dev/null || true; done
}

BUILD_DIR=""
cleanup_build() {
    if [ -n "$BUILD_DIR" ] && [ -d "$BUILD_DIR" ]; then
        unmount_under "$BUILD_DIR"
        rm -rf --one-file-system "$BUILD_DIR"
    fi
}

build_image() {
    as_root_check "building $IMAGE with debootstrap"
    command -v debootstrap >/dev/null || apt_install debootstrap debian-archive-keyring
    local mirror root t0=$SECONDS
    mirror=$(debian_mirror)
    BUILD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/plait-python-slim.XXXXXX")
    trap cleanup_build EXIT
    root="$BUILD_DIR/rootfs"

    log "building $IMAGE: debootstrap $SUITE from $mirror (takes a few minutes)"
    debootstrap --variant=minbase \
        --include=ca-certificates,python3,python3-pip,python3-venv,python-is-python3 \
        "$SUITE" "$root" "$mirror" >"$BUILD_DIR/debootstrap.log" 2>&1 || {
        tail -n 30 "$BUILD_DIR/debootstrap.log" >&2
        [ -f "$root/debootstrap/debootstrap.log" ] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
        die "debootstrap failed (mirror $mirror)"
    }
    unmount_under "$root"

    # Behave like the official python:slim: plain `pip install` as root.
    rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
    [ -x "$root/usr/bin/python" ] || ln -sf python3 "$root/usr/bin/python"
    [ -x "$root/usr/bin/pip" ] || ln -sf pip3 "$root/usr/bin/pip"

    # Trust whatever CAs the host trusts beyond Debian's set (e.g. a TLS
    # intercepting egress proxy): PyPI must be reachable the way it is
    # from the host.  Extra certs go to /usr/local/share/ca-certificates so
    # they survive update-ca-certificates runs inside the container.
    if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
        awk -v out="$root/usr/local/share/ca-certificates/plait-host-" '
            /-----BEGIN CERTIFICATE-----/ { b = ""; inb = 1 }
            inb { b = b $0 "\n" }
            /-----END CERTIFICATE-----/ { inb = 0
                if (FILENAME == ARGV[1]) known[b] = 1
                else if (!(b in known)) { n++; f = out n ".crt"; printf "%s", b > f; close(f) } }
            END { print n + 0 }' \
            "$root/etc/ssl/certs/ca-certificates.crt" /etc/ssl/certs/ca-certificates.crt \
            | { read -r n; log "added $n host-only CA certificate(s) to the image"; }
        chroot "$root" update-ca-certificates >/dev/null 2>&1 \
            || die "update-ca-certificates failed in the image"
    fi

    # apt sources inside the image (debootstrap only writes the main suite).
    printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
        "$mirror" "$SUITE" "$mirror" "$SUITE" "${mirror%/debian}/debian-security" "$SUITE" \
        >"$root/etc/apt/sources.list"
    # Keep future apt installs in containers small too (like debian:slim).
    cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
    cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
APT::Install-Recommends "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };
EOF

    # Slim down; remove host/build leftovers.
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
    find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
    rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/lintian \
        "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
        "$root"/var/lib/apt/lists/* "$root"/var/cache/debconf/*-old \
        "$root"/var/lib/dpkg/*-old "$root"/var/log/* "$root"/tmp/* "$root"/var/tmp/* \
        "$root"/root/.cache "$root"/debootstrap
    find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias \
        -exec rm -rf {} + 2>/dev/null || true
    rm -rf --one-file-system "$root"/dev/* "$root"/proc/* "$root"/sys/* "$root"/run/*
    mkdir -p "$root/var/log/apt"
    rm -f "$root/etc/resolv.conf" "$root/etc/hostname"
    : >"$root/etc/machine-id"

    log "importing rootfs as $IMAGE"
    local old_id
    old_id=$(dk image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
    tar -C "$root" --numeric-owner -cf - . | dk import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV PIP_ROOT_USER_ACTION=ignore' \
        --change 'ENV PIP_DISABLE_PIP_VERSION_CHECK=1' \
        --change 'ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt' \
        --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        --change 'CMD ["python3"]' \
        --message "plait: debootstrap $SUITE minbase + python3 (scripts/ensure-docker.sh)" \
        - "$IMAGE" >/dev/null || die "docker import failed"
    cleanup_build
    trap - EXIT
    BUILD_DIR=""
    # On a rebuild, drop the previous image unless something still uses it.
    if [ -n "$old_id" ]; then dk rmi "$old_id" >/dev/null 2>&1 || true; fi

    log "saving $IMAGE to $TARBALL"
    dk save -o "$TARBALL.tmp.$$" "$IMAGE" && chmod 644 "$TARBALL.tmp.$$" \
        && mv -f "$TARBALL.tmp.$$" "$TARBALL" \
        || { rm -f "$TARBALL.tmp.$$"; die "docker save to $TARBALL failed"; }
    log "built $IMAGE in $((SECONDS - t0))s"
}

if ! have_image; then
    if [ -s "$TARBALL" ] && [ "${PLAIT_REBUILD_IMAGE:-0}" != 1 ]; then
        log "loading $IMAGE from $TARBALL"
        if ! dk load -q -i "$TARBALL" >&2 || ! have_image; then
            log "loading $TARBALL failed; rebuilding the image"
            build_image
        fi
    else
        build_image
    fi
    out=$(dk run --rm --network none "$IMAGE" python -c 'import sys; print(sys.version.split()[0])' 2>&1) \
        || die "$IMAGE does not run: $out"
    log "$IMAGE ready (Python $out)"
elif [ "${PLAIT_REBUILD_IMAGE:-0}" = 1 ]; then
    build_image
fi

echo "$SOCK"
