# shellcheck shell=bash
# Installs what scripts/fuzz needs beyond scripts/lib/deps.sh: cargo-fuzz,
# at a pinned version, from crates.io. Source it after deps.sh (it uses
# makara_log), then call `fuzz_deps`. Idempotent: when the pinned version
# is already installed it reaches no network.
#
# libFuzzer itself comes with the fuzz crate's libfuzzer-sys dependency
# (pinned in fuzz/Cargo.toml, locked in fuzz/Cargo.lock) and is built from
# source with the C++ compiler deps.sh installs.

FUZZ_CARGO_FUZZ_VERSION=0.13.2

# The installed cargo-fuzz version ("0.13.2"), or nothing. Without
# cargo-fuzz, cargo fails ("no such command", exit 101): that is an
# answer, not an error, for callers under `set -e -o pipefail`.
fuzz_cargo_fuzz_version() {
    { cargo fuzz --version 2>/dev/null || true; } | sed -n 's/^cargo-fuzz \([0-9][0-9.]*\).*/\1/p'
}

# cargo-fuzz at FUZZ_CARGO_FUZZ_VERSION, installed with the locked
# dependencies it was released with.
fuzz_deps() {
    local have
    have=$(fuzz_cargo_fuzz_version)
    if [ "$have" = "$FUZZ_CARGO_FUZZ_VERSION" ]; then
        makara_log "cargo-fuzz $have"
        return 0
    fi
    makara_log "installing cargo-fuzz $FUZZ_CARGO_FUZZ_VERSION (found: ${have:-none})"
    cargo install --locked --force --version "$FUZZ_CARGO_FUZZ_VERSION" cargo-fuzz >&2
    have=$(fuzz_cargo_fuzz_version)
    [ "$have" = "$FUZZ_CARGO_FUZZ_VERSION" ] || {
        makara_log "cargo-fuzz still reports '${have:-nothing}'"
        return 1
    }
}
