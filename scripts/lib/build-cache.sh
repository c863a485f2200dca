# shellcheck shell=bash
# Build products that outlive a checkout. CI tests a fresh clone each
# time, on a machine where earlier runs left things behind: with the
# build directories linked to a cache in the home directory, a new clone
# rebuilds only its own crates (their files are new) and reuses every
# dependency's build (bindgen over FFmpeg and x264, tokio, rustls...)
# and the incremental data of the last run.
#
# makara_share_build_dirs ROOT links, in the checkout at ROOT, each of
# target/{debug,release,<cross triple>}, target/pydeps and fuzz/target
# that does not exist yet to a directory of the same name under
# $MAKARA_BUILD_CACHE (default ~/.cache/makara/build), and says so on
# stderr. A checkout that has them as its own directories keeps them;
# MAKARA_BUILD_CACHE=off, or no home directory, shares nothing.
# Cargo locks each build directory, so checkouts that build at once wait
# for each other rather than mix their builds; but the binaries they
# build land in the same place (target/debug/makarad), so run the tests
# of one sharing checkout at a time. Prints "shared" when any directory
# is shared.
#
# What is left in target/ apart from these (images and their data disks,
# run state) stays the checkout's own.

MAKARA_SHARED_BUILD_DIRS=(
    target/debug target/release target/aarch64-unknown-linux-gnu target/pydeps fuzz/target
)

makara_build_cache_dir() {
    if [ -n "${MAKARA_BUILD_CACHE:-}" ]; then
        [ "$MAKARA_BUILD_CACHE" = off ] || printf '%s\n' "$MAKARA_BUILD_CACHE"
    elif [ -n "${HOME:-}" ]; then
        printf '%s\n' "${XDG_CACHE_HOME:-$HOME/.cache}/makara/build"
    fi
}

makara_share_build_dirs() {
    local root=$1 cache dir shared=0
    cache=$(makara_build_cache_dir)
    [ -n "$cache" ] || return 0
    for dir in "${MAKARA_SHARED_BUILD_DIRS[@]}"; do
        if [ -L "$root/$dir" ]; then
            shared=1
        elif [ ! -e "$root/$dir" ]; then
            mkdir -p "$cache/$dir" "$(dirname "$root/$dir")"
            ln -s "$cache/$dir" "$root/$dir"
            printf '[build-cache] %s -> %s\n' "$dir" "$cache/$dir" >&2
            shared=1
        fi
    done
    [ "$shared" -eq 0 ] || echo shared
}
