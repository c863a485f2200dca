# shellcheck shell=bash
# Installs what building and testing Makara needs on Debian bookworm.
#
# Source it, then call `makara_deps`. Idempotent: a second run installs
# nothing and reaches no network when every package is already there.
#
#   MAKARA_PYTHON   the Python that runs the tests (Debian's /usr/bin/python3,
#                   which sees the apt-installed modules; a pyenv python3 may
#                   come first on PATH and would not)
#   MAKARA_APT_STAMP  marks the last `apt-get update` (default below)
#
# Everything these functions say, and the output of apt-get and dpkg they
# run, goes to stderr: callers capture helpers built on them with $(...),
# and their stdout must carry the result alone.

MAKARA_APT_PACKAGES=(
    build-essential pkg-config curl ca-certificates openssl iproute2
    python3 python3-pytest python3-pytest-xdist python3-requests python3-requests-oauthlib
    python3-jsonschema python3-yaml
    python3-pip python3-zeep python3-ifaddr python3-click python3-setuptools python3-wheel
    libx264-dev libclang-dev clang ffmpeg
    libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
    libsrt-gnutls-dev srt-tools
    libnginx-mod-rtmp libnginx-mod-stream
    python3-gi gir1.2-gst-rtsp-server-1.0
    gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
    gstreamer1.0-plugins-bad
)
MAKARA_PYTHON=/usr/bin/python3
# The ONVIF tests' third-party clients, from PyPI at pinned versions (not in
# Debian), installed apart from the system's site-packages: the tests put
# MAKARA_PYDEPS on sys.path. Their dependencies (zeep, ifaddr, click) are
# Debian's, above.
MAKARA_PYPI_PACKAGES=(onvif-zeep==0.2.12 WSDiscovery==2.1.2)
: "${MAKARA_PYDEPS:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/target/pydeps}"
: "${MAKARA_APT_STAMP:=/var/cache/makara/apt-update.stamp}"

makara_log() { printf '[deps] %s\n' "$*" >&2; }

# Runs a command as root: directly when we are root, else through sudo.
makara_as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        makara_log "need root (or sudo) for: $*"
        return 1
    fi
}

# True when dpkg knows the package as fully installed. (Not `dpkg -s | grep
# -q`: under pipefail, grep quitting at the match can kill dpkg with
# SIGPIPE, and an installed package then looks missing.)
makara_pkg_installed() {
    local status
    status=$(dpkg-query -W -f='${db:Status-Abbrev}\n' "$1" 2>/dev/null) || return 1
    # One line per architecture installed; any fully installed one will do.
    [[ $'\n'"$status"$'\n' == *$'\nii \n'* ]]
}

# Prints the packages of "$@" that are not installed, one per line.
makara_missing_packages() {
    local p
    for p in "$@"; do
        makara_pkg_installed "$p" || printf '%s\n' "$p"
    done
}

# True when an `apt-get update` ran less than a day ago and its lists are
# still there (an image may have had /var/lib/apt/lists emptied since).
makara_apt_lists_fresh() {
    [ -f "$MAKARA_APT_STAMP" ] || return 1
    [ -n "$(find "$MAKARA_APT_STAMP" -mmin -1440 2>/dev/null)" ] || return 1
    compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null
}

makara_apt_update() {
    makara_log "apt-get update"
    makara_as_root apt-get update -q >&2
    makara_as_root mkdir -p "$(dirname "$MAKARA_APT_STAMP")"
    makara_as_root touch "$MAKARA_APT_STAMP"
}

makara_apt_install() {
    makara_as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "$@" >&2
}

# Installs the missing Debian packages: one `apt-get update` (skipped while
# the stamp is younger than a day), then one retry after `apt-get -f install`
# because dpkg sometimes cannot find archives it has just downloaded.
makara_apt_deps() {
    local missing
    mapfile -t missing < <(makara_missing_packages "${MAKARA_APT_PACKAGES[@]}" "$@")
    if [ "${#missing[@]}" -eq 0 ]; then
        makara_log "Debian packages: all present"
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        makara_log "missing ${missing[*]} and no apt-get here: install them by hand"
        return 1
    fi
    makara_log "missing: ${missing[*]}"
    local updated=0
    if ! makara_apt_lists_fresh; then
        makara_apt_update
        updated=1
    fi
    if makara_apt_install "${missing[@]}"; then
        return 0
    fi
    makara_log "apt-get install failed; repairing with apt-get -f install and retrying once"
    makara_as_root env DEBIAN_FRONTEND=noninteractive apt-get -f install -y -q >&2 || true
    # Lists a day old can name archives the mirror no longer has.
    [ "$updated" -eq 1 ] || makara_apt_update
    makara_apt_install "${missing[@]}"
}

# Puts cargo on PATH: rustup's toolchain (~/.cargo/env) first, Debian's cargo
# and rustc only as a last resort (too old for this workspace's rust-version,
# but it says so clearly instead of "command not found").
makara_rust() {
    if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
        # shellcheck source=/dev/null
        . "$HOME/.cargo/env"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        makara_log "no cargo on PATH nor in ~/.cargo: installing Debian's cargo and rustc"
        makara_apt_deps cargo rustc
    fi
    command -v cargo >/dev/null 2>&1 || { makara_log "cargo still missing"; return 1; }
    makara_log "$(cargo --version)"
}

# Checks that the test Python sees the modules the tests import.
makara_python_check() {
    if ! "$MAKARA_PYTHON" -c 'import pytest, xdist, requests, requests_oauthlib, jsonschema, yaml' 2>/dev/null; then
        makara_log "$MAKARA_PYTHON cannot import pytest, xdist, requests, requests_oauthlib, jsonschema and yaml"
        return 1
    fi
    if ! PYTHONPATH="$MAKARA_PYDEPS" "$MAKARA_PYTHON" -c 'import zeep, onvif, wsdiscovery, ifaddr, click' 2>/dev/null; then
        makara_log "$MAKARA_PYTHON cannot import zeep, onvif, wsdiscovery, ifaddr and click (with $MAKARA_PYDEPS)"
        return 1
    fi
    makara_log "$("$MAKARA_PYTHON" --version 2>&1) with pytest $("$MAKARA_PYTHON" -c 'import pytest; print(pytest.__version__)')"
}

# True when MAKARA_PYDEPS holds the pinned PyPI packages and onvif-zeep's
# WSDL files.
makara_pydeps_present() {
    [ -f "$MAKARA_PYDEPS/wsdl/devicemgmt.wsdl" ] || return 1
    PYTHONPATH="$MAKARA_PYDEPS" "$MAKARA_PYTHON" - "${MAKARA_PYPI_PACKAGES[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
for pin in sys.argv[1:]:
    name, wanted = pin.split("==")
    if version(name) != wanted:
        sys.exit(1)
import onvif, wsdiscovery  # noqa: F401
PY
}

# Installs the pinned PyPI packages into MAKARA_PYDEPS (never into the
# system's site-packages) with pip, without their dependencies (Debian's),
# and onvif-zeep's WSDL files from its source archive (pip --target drops
# them). Idempotent: nothing is fetched when they are there.
makara_pydeps() {
    if makara_pydeps_present; then
        makara_log "PyPI test packages: present in $MAKARA_PYDEPS"
        return 0
    fi
    makara_log "installing ${MAKARA_PYPI_PACKAGES[*]} into $MAKARA_PYDEPS"
    local work
    work=$(mktemp -d "${TMPDIR:-/tmp}/makara-pydeps.XXXXXX") || return 1
    local pip=("$MAKARA_PYTHON" -m pip --disable-pip-version-check --no-input)
    # pip ignores SSL_CERT_FILE, which names the trust anchors everything
    # else here uses (a proxy's CA, say); PIP_CERT or pip.conf still win.
    if [ -n "${SSL_CERT_FILE:-}" ] && [ -z "${PIP_CERT:-}" ]; then
        pip+=(--cert "$SSL_CERT_FILE")
    fi
    if "${pip[@]}" download --no-deps --no-build-isolation -d "$work/dl" \
            "${MAKARA_PYPI_PACKAGES[@]}" >&2 \
        && "${pip[@]}" install --no-deps --no-build-isolation --no-index \
            --target "$work/target" "$work"/dl/* >&2 \
        && tar -xzf "$work"/dl/onvif_zeep-0.2.12.tar.gz -C "$work" \
        && cp -r "$work/onvif_zeep-0.2.12/wsdl" "$work/target/wsdl"; then
        mkdir -p "$(dirname "$MAKARA_PYDEPS")"
        rm -rf "$MAKARA_PYDEPS"
        mv "$work/target" "$MAKARA_PYDEPS"
        rm -rf "$work"
    else
        rm -rf "$work"
        makara_log "could not install ${MAKARA_PYPI_PACKAGES[*]}"
        return 1
    fi
    makara_pydeps_present || { makara_log "$MAKARA_PYDEPS still lacks them"; return 1; }
}

# Everything: Debian packages, Rust, the PyPI test packages, and a check of
# the test Python.
makara_deps() {
    makara_apt_deps
    makara_rust
    makara_pydeps
    makara_python_check
}
