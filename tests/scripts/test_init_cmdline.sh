#!/usr/bin/env bash
# image/init takes makara.KEY=VALUE from the kernel command line for the
# known settings only, as data: makara.path=/evil, makara.ld_preload=... and
# anything else are logged and ignored, and no value is ever run.
#
# Runs the init's own settings section (from "# --- settings" to the first
# blank line), with /etc/makara/ pointed at image/ and /proc/cmdline at a
# fake command line, under busybox sh (the image's shell) where it is
# installed and under the host's sh (dash on Debian).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/makara-cmdline.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# The settings section of image/init, reading the repository's files.
awk '/^# --- settings/ { on = 1 } on && /^$/ { exit } on { print }' "$repo/image/init" \
    | sed -e "s|/etc/makara/|$repo/image/|g" -e "s|/proc/cmdline|$scratch/cmdline|g" \
        >"$scratch/settings.sh"
grep -q cmdline "$scratch/settings.sh" || fail "no settings section found in image/init"

# Values that would run something if evaluated: each would create a file.
run1="\$(touch\${IFS}$scratch/ran-1)"
run2="\`touch\${IFS}$scratch/ran-2\`"
run3="\$(touch $scratch/ran-3)"
cat >"$scratch/cmdline" <<EOF
BOOT_IMAGE=/vmlinuz console=ttyS0 quiet makara.PATH=/evil makara.ld_preload=/evil.so
makara.ifs=x makara.x=$run1 makara.data_label=$run1 makara.makarad_listen=$run2
makara.data_dev="$run3" makara.MAKARAD_LOG=console makara.net_interface=eth1
makara.vivid_options="n_devs=2 node_types=0x1" makara.console=* makara.data_dir
makara.watchdog_heartbeat="7 nowayout=1" makara.makarad_debug=1
EOF
# The kernel passes one line; the file above is split for reading only.
tr '\n' ' ' <"$scratch/cmdline" >"$scratch/cmdline.one" && mv "$scratch/cmdline.one" "$scratch/cmdline"

cat >"$scratch/harness.sh" <<EOF
log() { printf 'LOG %s\n' "\$*"; }
PATH_BEFORE=\$PATH
IFS_BEFORE=\$IFS
. "$scratch/settings.sh"
[ "\$PATH" = "\$PATH_BEFORE" ] || echo "PATH changed to \$PATH"
[ "\$IFS" = "\$IFS_BEFORE" ] || echo "IFS changed"
[ -z "\${LD_PRELOAD:-}" ] || echo "LD_PRELOAD set to \$LD_PRELOAD"
for v in DATA_DEV DATA_DIR DATA_LABEL MAKARAD_LISTEN MAKARAD_LOG NET_INTERFACE VIVID_OPTIONS CONSOLE WATCHDOG_HEARTBEAT MAKARAD_DEBUG; do
    eval "printf 'VALUE %s=%s\n' \$v \"\\\$\$v\""
done
EOF

# expect_line SHELL OUT LINE: OUT (the harness's output) has LINE exactly.
expect_line() {
    grep -qxF -- "$3" <<<"$2" || fail "$1: no line '$3' in:"$'\n'"$2"
}

# MAKARA_BUSYBOX names a busybox that is not on PATH (an unpacked .deb).
shells=("sh")
busybox=${MAKARA_BUSYBOX:-$(command -v busybox || true)}
if [ -n "$busybox" ]; then
    shells=("$busybox sh" "${shells[@]}")
else
    echo "note: no busybox here (scripts/build-image installs busybox-static); testing with sh only"
fi
for shell in "${shells[@]}"; do
    failures_before=$failures
    rm -f "$scratch"/ran-*
    read -r -a cmd <<<"$shell"
    out=$(env -i PATH=/usr/bin:/bin "${cmd[@]}" "$scratch/harness.sh" 2>&1) || fail "$shell: the harness failed"
    if grep -E 'changed|LD_PRELOAD set' <<<"$out"; then
        fail "$shell: the command line changed the shell's environment"
    fi
    for f in 1 2 3; do
        [ ! -e "$scratch/ran-$f" ] || fail "$shell: a value was run (ran-$f exists)"
    done
    # Known keys take effect, with the value as it was written.
    expect_line "$shell" "$out" "VALUE DATA_LABEL=$run1"
    expect_line "$shell" "$out" "VALUE MAKARAD_LISTEN=$run2"
    expect_line "$shell" "$out" "VALUE DATA_DEV=$run3"
    expect_line "$shell" "$out" "VALUE MAKARAD_LOG=/dev/console"
    expect_line "$shell" "$out" "VALUE NET_INTERFACE=eth1"
    expect_line "$shell" "$out" "VALUE VIVID_OPTIONS=n_devs=2 node_types=0x1"
    expect_line "$shell" "$out" "VALUE CONSOLE=*"
    # Taken as it is here; /init then refuses anything but digits for it.
    expect_line "$shell" "$out" "VALUE WATCHDOG_HEARTBEAT=7 nowayout=1"
    expect_line "$shell" "$out" "VALUE MAKARAD_DEBUG=1"
    # Settings the command line does not name keep image.conf's values.
    expect_line "$shell" "$out" "VALUE DATA_DIR=/data"
    # Unknown keys, and a makara.* word without '=', are logged and ignored.
    for word in makara.PATH=/evil makara.ld_preload=/evil.so makara.ifs=x "makara.x=$run1" \
        makara.data_dir; do
        grep -qF "LOG ignoring kernel argument '$word'" <<<"$out" \
            || fail "$shell: no log line ignoring '$word' in:"$'\n'"$out"
    done
    if grep -qE "ignoring kernel argument '(console|quiet|BOOT_IMAGE)" <<<"$out"; then
        fail "$shell: logged a kernel argument that is not makara.*"
    fi
    [ "$failures" -gt "$failures_before" ] || echo "ok: $shell"
done

# Nothing in the init or its settings code evaluates a string as shell.
if grep -nE '(^|[^_[:alnum:]])eval([^_[:alnum:]]|$)' "$repo/image/init" "$repo/image/cmdline.sh"; then
    fail "image/init or image/cmdline.sh uses eval"
fi

if [ "$failures" -gt 0 ]; then
    echo "test_init_cmdline: $failures failure(s)"
    exit 1
fi
echo "test_init_cmdline: only the known makara.* keys are taken, as data"
