#!/usr/bin/env bash
# scripts/lib/build-cache.sh: a fresh checkout's build directories become
# links into the cache; a checkout's own directories are kept; "off" and
# a missing home share nothing; it says what it links on stderr only, and
# a second call changes nothing.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/makara-build-cache.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
# shellcheck source=scripts/lib/build-cache.sh
. "$repo/scripts/lib/build-cache.sh"

failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# A fresh checkout: everything linked, "shared" on stdout, the links on
# stderr.
fresh=$scratch/fresh
mkdir -p "$fresh"
out=$(MAKARA_BUILD_CACHE=$scratch/cache makara_share_build_dirs "$fresh" 2>"$scratch/err")
[ "$out" = shared ] || fail "fresh: stdout is '$out', not 'shared'"
for dir in target/debug target/release target/aarch64-unknown-linux-gnu target/pydeps fuzz/target; do
    [ "$(readlink "$fresh/$dir")" = "$scratch/cache/$dir" ] || fail "fresh: $dir is not linked"
    [ -d "$scratch/cache/$dir" ] || fail "fresh: the cache has no $dir"
done
[ "$(grep -c '^\[build-cache\]' "$scratch/err")" -eq 5 ] || fail "fresh: stderr: $(cat "$scratch/err")"

# Again: nothing new, still shared, quiet.
out=$(MAKARA_BUILD_CACHE=$scratch/cache makara_share_build_dirs "$fresh" 2>"$scratch/err")
[ "$out" = shared ] || fail "again: stdout is '$out'"
[ ! -s "$scratch/err" ] || fail "again: said $(cat "$scratch/err")"

# A checkout with its own target/debug keeps it; the rest are linked.
own=$scratch/own
mkdir -p "$own/target/debug"
MAKARA_BUILD_CACHE=$scratch/cache makara_share_build_dirs "$own" >/dev/null 2>&1
[ -d "$own/target/debug" ] && [ ! -L "$own/target/debug" ] || fail "own: target/debug was replaced"
[ -L "$own/target/release" ] || fail "own: target/release is not linked"

# off, and no home: nothing linked, nothing printed.
for how in "MAKARA_BUILD_CACHE=off" "HOME="; do
    none=$scratch/none-${how%%=*}
    mkdir -p "$none"
    out=$(env -u MAKARA_BUILD_CACHE "$how" bash -c \
        ". '$repo/scripts/lib/build-cache.sh'; makara_share_build_dirs '$none'" 2>&1)
    [ -z "$out" ] || fail "$how: printed '$out'"
    [ -z "$(ls -A "$none")" ] || fail "$how: made $(ls -A "$none")"
done

if [ "$failures" -gt 0 ]; then
    echo "test_build_cache: $failures failed"
    exit 1
fi
echo "test_build_cache: ok"
