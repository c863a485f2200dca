#!/usr/bin/env bash
# The helpers of scripts/lib that callers capture with $(...) must print
# their result and nothing else on stdout. On a fresh machine they run
# `apt-get update`, `apt-get install` and `dpkg`, whose chatter once became
# part of a captured path (`scripts/build-image: line 112: /src/Get:1 ...`).
#
# Here apt-get, dpkg and sudo are fakes on PATH that print a line on stdout
# for everything they do, nothing is installed, the apt stamp is missing and
# the first `apt-get install` fails (so the `apt-get -f install` retry runs
# too). Each captured helper must still print exactly its path. Touches
# nothing outside a scratch directory and reaches no network.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/makara-captured.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

fakes=$scratch/bin
mkdir -p "$fakes" "$scratch/etc-apt/sources.list.d"
calls=$scratch/calls

# Every fake logs its call to $calls and says something on stdout.
cat >"$fakes/apt-get" <<'EOF'
#!/bin/sh
echo "apt-get $*" >>"$FAKE_CALLS"
echo "Get:1 http://deb.example/debian bookworm InRelease (fake apt-get $1)"
case " $* " in
    *" -f install "*) ;;
    *" install "*)
        # The first install fails, as dpkg sometimes does on a fresh machine.
        if [ ! -e "$FAKE_CALLS.installed-once" ]; then
            : >"$FAKE_CALLS.installed-once"
            exit 100
        fi ;;
    *" source "*) for a; do pkg=$a; done; mkdir -p "$pkg-1.0" ;;
    *" download "*)
        for a; do pkg=$a; done
        : >"${pkg%%:*}_1.0_${pkg#*:}.deb" ;;
esac
exit 0
EOF
cat >"$fakes/dpkg" <<'EOF'
#!/bin/sh
echo "dpkg $*" >>"$FAKE_CALLS"
case $1 in
    --print-architecture) echo amd64; exit 0 ;;
    --print-foreign-architectures) exit 0 ;;
    -s) echo "dpkg-query: package '$2' is not installed"; exit 1 ;;
    -x) mkdir -p "$3/bin" && : >"$3/bin/busybox" ;;
esac
echo "fake dpkg $1 done"
EOF
cat >"$fakes/dpkg-query" <<'EOF'
#!/bin/sh
echo "dpkg-query $*" >>"$FAKE_CALLS"
for a; do pkg=$a; done
echo "dpkg-query: no packages found matching $pkg" >&2
exit 1
EOF
cat >"$fakes/sudo" <<'EOF'
#!/bin/sh
exec "$@"
EOF
chmod +x "$fakes"/*

export PATH="$fakes:$PATH" FAKE_CALLS=$calls
export MAKARA_APT_STAMP=$scratch/stamp/apt-update.stamp
export IMAGE_APT_ETC=$scratch/etc-apt
# shellcheck source=scripts/lib/deps.sh
. "$repo/scripts/lib/deps.sh"
# shellcheck source=scripts/lib/image-deps.sh
. "$repo/scripts/lib/image-deps.sh"

failures=0
# expect NAME WANT GOT: GOT (a helper's captured stdout) must be WANT exactly.
expect() {
    if [ "$3" = "$2" ]; then
        echo "ok: $1 printed only '$2'"
    else
        printf 'FAIL: %s printed more than its result %q:\n%s\n' "$1" "$2" "$3"
        failures=$((failures + 1))
    fi
}
# capture VAR NAME ARGS...: runs helper NAME in $(...) into VAR; its stderr
# goes to a file that is shown if it fails.
capture() {
    local var=$1 name=$2 out
    shift 2
    if ! out=$("$name" "$@" 2>"$scratch/$name.err"); then
        echo "FAIL: $name $* failed; its stderr:"
        cat "$scratch/$name.err"
        failures=$((failures + 1))
    fi
    printf -v "$var" '%s' "$out"
}
# called PATTERN: the fakes were really called so (the test is not vacuous).
called() {
    if ! grep -q -- "$1" "$calls"; then
        echo "FAIL: expected a call matching '$1'; calls were:"
        cat "$calls"
        failures=$((failures + 1))
    fi
}

capture src image_debian_source ffmpeg "$scratch/src"
expect image_debian_source "$scratch/src/ffmpeg-1.0" "$src"
called '^apt-get update'
called '^apt-get install .*dpkg-dev'
called '^apt-get -f install'
called '^apt-get source'

capture deb image_fetch_deb busybox-static:arm64 "$scratch/debs"
expect image_fetch_deb "$scratch/debs/busybox-static_1.0_arm64.deb" "$deb"

rm -f "$MAKARA_APT_STAMP" "$scratch/debs"/*.deb
: >"$calls"
capture busybox image_busybox arm64 "$scratch/cache"
expect image_busybox "$scratch/cache/busybox/bin/busybox" "$busybox"
called '^dpkg --add-architecture arm64'
called '^apt-get update'
called '^apt-get download'
called '^dpkg -x'

capture missing makara_missing_packages dpkg-dev
expect makara_missing_packages dpkg-dev "$missing"

if [ "$failures" -gt 0 ]; then
    echo "test_captured_helpers: $failures failure(s)"
    exit 1
fi
echo "test_captured_helpers: all captured helpers print their result alone"
