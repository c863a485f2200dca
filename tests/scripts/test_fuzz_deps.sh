#!/usr/bin/env bash
# scripts/lib/fuzz-deps.sh: `fuzz_deps` installs cargo-fuzz at the pinned
# version only when another version (or none) is there, and says so on
# stderr alone. `cargo` is a fake on PATH that logs its calls and plays an
# installed cargo-fuzz of the version in $FAKE_VERSION (with none, it
# fails as cargo does on an unknown command, exit 101); nothing is
# installed and no network is reached.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/makara-fuzz-deps.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/bin"
cat >"$scratch/bin/cargo" <<'EOF'
#!/bin/sh
echo "cargo $*" >>"$FAKE_CALLS"
case "$1 $2" in
    "fuzz --version")
        [ -s "$FAKE_VERSION" ] || { echo "error: no such command: fuzz" >&2; exit 101; }
        echo "cargo-fuzz $(cat "$FAKE_VERSION")" ;;
    "install --locked") echo "$5" >"$FAKE_VERSION"; echo "Installed package (fake)" ;;
esac
exit 0
EOF
chmod +x "$scratch/bin/cargo"
export PATH="$scratch/bin:$PATH" FAKE_CALLS=$scratch/calls FAKE_VERSION=$scratch/version
# shellcheck source=scripts/lib/deps.sh
. "$repo/scripts/lib/deps.sh"
# shellcheck source=scripts/lib/fuzz-deps.sh
. "$repo/scripts/lib/fuzz-deps.sh"

failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
installs() { grep -c '^cargo install' "$FAKE_CALLS" || true; }

# An older cargo-fuzz is replaced by the pinned one, with the locked
# dependencies; stdout stays empty.
echo 0.12.0 >"$FAKE_VERSION"
: >"$FAKE_CALLS"
out=$(fuzz_deps 2>"$scratch/err") || fail "fuzz_deps failed over 0.12.0: $(cat "$scratch/err")"
[ -z "$out" ] || fail "fuzz_deps printed on stdout: $out"
grep -q "^cargo install --locked --force --version $FUZZ_CARGO_FUZZ_VERSION cargo-fuzz\$" "$FAKE_CALLS" \
    || fail "no pinned, locked install; calls: $(cat "$FAKE_CALLS")"

# Once it is there, a second call installs nothing.
: >"$FAKE_CALLS"
fuzz_deps 2>/dev/null || fail "fuzz_deps failed with the pinned version installed"
[ "$(installs)" -eq 0 ] || fail "reinstalled the pinned version: $(cat "$FAKE_CALLS")"

# None at all: installed. Run as scripts/fuzz runs it, under `set -e -o
# pipefail` in a shell of its own (here, `|| fail` would suspend set -e).
: >"$FAKE_VERSION"
: >"$FAKE_CALLS"
bash -euo pipefail -c '. "$1/scripts/lib/deps.sh"; . "$1/scripts/lib/fuzz-deps.sh"; fuzz_deps' \
    _ "$repo" 2>/dev/null || fail "fuzz_deps failed with no cargo-fuzz"
[ "$(installs)" -eq 1 ] || fail "expected one install; calls: $(cat "$FAKE_CALLS")"

if [ "$failures" -gt 0 ]; then
    echo "test_fuzz_deps: $failures failure(s)"
    exit 1
fi
echo "test_fuzz_deps: cargo-fuzz is installed at $FUZZ_CARGO_FUZZ_VERSION once, and only when needed"
