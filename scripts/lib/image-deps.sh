# shellcheck shell=bash
# Installs and fetches what building and booting the appliance image needs,
# on Debian bookworm. Source it after scripts/lib/deps.sh, then call the
# functions below. Every one is idempotent: a second run installs nothing
# and downloads nothing when everything is already there.
#
#   image_host_deps ARCH          busybox-static, cpio, kmod, zstd, socat, openssl,
#                                 and QEMU for ARCH from bookworm-backports
#   image_foreign_arch DEBARCH    dpkg --add-architecture (arm64), once
#   image_fetch_deb PKG DIR       apt-get download PKG into DIR unless a .deb is there
#   image_kernel DEBARCH CACHE    the Debian kernel .deb, unpacked (not installed)
#                                 into CACHE/kroot, with modules.dep; sets IMAGE_KVER
#   image_busybox DEBARCH CACHE   path of a static busybox for DEBARCH (printed)
#   image_cross_deps              the aarch64 cross linker and Rust target; returns 1
#                                 with the reason when they cannot be had here
#
# The helpers that print a result (image_fetch_deb, image_busybox,
# image_debian_source) are called inside $(...): they print that result and
# nothing else on stdout; their logs and the output of the tools they run go
# to stderr (tests/scripts/test_captured_helpers.sh checks it).
#
# Why backports: the preinstalled qemu-utils 10.x (bookworm-backports) breaks
# bookworm's qemu-system 7.2 ("qemu-utils : Breaks: qemu-system-common (<
# 1:8.0+dfsg-5~)"), so plain `apt-get install qemu-system-x86` fails here
# (shared/research/qemu.md §1).

# apt's configuration directory. Only tests/scripts change it, to a scratch
# directory, with apt-get and dpkg faked on PATH: the real apt reads /etc/apt.
: "${IMAGE_APT_ETC:=/etc/apt}"
IMAGE_BACKPORTS_SOURCES=$IMAGE_APT_ETC/sources.list.d/bookworm-backports.sources

image_log() { printf '[image-deps] %s\n' "$*" >&2; }
image_die() { printf '[image-deps] error: %s\n' "$*" >&2; exit 1; }

# Adds the bookworm-backports source once; updates the lists when it was added.
image_backports_source() {
    if grep -rqs 'bookworm-backports' "$IMAGE_APT_ETC/sources.list" "$IMAGE_APT_ETC/sources.list.d/"; then
        return 0
    fi
    image_log "adding the bookworm-backports source ($IMAGE_BACKPORTS_SOURCES)"
    printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' \
        'Suites: bookworm-backports' 'Components: main' \
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
        | makara_as_root tee "$IMAGE_BACKPORTS_SOURCES" >/dev/null
    makara_apt_update
}

# QEMU's system emulator for ARCH, from bookworm-backports.
image_qemu() {
    local arch=$1 pkg bin
    case $arch in
        x86_64) pkg=qemu-system-x86 bin=qemu-system-x86_64 ;;
        aarch64) pkg=qemu-system-arm bin=qemu-system-aarch64 ;;
        *) image_die "unknown arch '$arch' (x86_64 or aarch64)" ;;
    esac
    if command -v "$bin" >/dev/null 2>&1; then
        return 0
    fi
    image_backports_source
    image_log "installing $pkg from bookworm-backports"
    makara_as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends -t bookworm-backports "$pkg" >&2 \
        || image_die "could not install $pkg from bookworm-backports (see shared/research/qemu.md §1)"
    command -v "$bin" >/dev/null 2>&1 || image_die "$pkg installed but $bin is not on PATH"
}

# Host tools for building (busybox-static, cpio, kmod for depmod, zstd) and
# booting (socat for the QEMU monitor, openssl for the TLS readiness probe).
image_host_deps() {
    local arch=$1
    makara_apt_deps busybox-static cpio kmod zstd socat openssl binutils
    image_qemu "$arch"
}

# Enables a foreign dpkg architecture (needed to `apt-get download` arm64
# packages). Installs nothing of that architecture by itself.
image_foreign_arch() {
    local debarch=$1
    [ "$debarch" = "$(dpkg --print-architecture)" ] && return 0
    if dpkg --print-foreign-architectures | grep -qx "$debarch"; then
        # The lists may predate the architecture (a stamp younger than a day).
        compgen -G "/var/lib/apt/lists/*binary-${debarch}_Packages*" >/dev/null && return 0
    else
        image_log "dpkg --add-architecture $debarch"
        makara_as_root dpkg --add-architecture "$debarch" >&2
    fi
    makara_apt_update
}

# apt-get download PKG (e.g. busybox-static:arm64) into DIR, unless DIR
# already holds its .deb. Prints the .deb's path.
image_fetch_deb() {
    local pkg=$1 dir=$2 name arch deb
    name=${pkg%%:*}
    arch=${pkg#*:}
    [ "$arch" = "$pkg" ] && arch=$(dpkg --print-architecture)
    mkdir -p "$dir"
    deb=$(compgen -G "$dir/${name}_*_${arch}.deb" | head -n1 || true)
    if [ -z "$deb" ]; then
        deb=$(compgen -G "$dir/${name}_*_all.deb" | head -n1 || true)
    fi
    if [ -z "$deb" ]; then
        image_log "apt-get download $pkg"
        (cd "$dir" && apt-get download -q "$pkg" 2>&1 | grep -v 'unsandboxed as root' >&2) || true
        deb=$(compgen -G "$dir/${name}_*.deb" | head -n1 || true)
        [ -n "$deb" ] || image_die "apt-get download $pkg gave no .deb in $dir"
    fi
    printf '%s\n' "$deb"
}

# The Debian kernel for DEBARCH (amd64|arm64): resolves the ABI package that
# linux-image-DEBARCH depends on (it changes with kernel updates), downloads
# it, unpacks it into CACHE/kroot (dpkg -x: the host's kernel is untouched)
# and makes modules.dep (the .deb ships none: its postinst would).
# Sets IMAGE_KVER and IMAGE_KROOT.
image_kernel() {
    local debarch=$1 cache=$2 kpkg deb
    image_foreign_arch "$debarch"
    kpkg=$(apt-cache depends "linux-image-$debarch:$debarch" 2>/dev/null \
        | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
    kpkg=${kpkg%%:*}
    [ -n "$kpkg" ] || image_die "apt-cache cannot resolve linux-image-$debarch (apt-get update?)"
    IMAGE_KVER=${kpkg#linux-image-}
    IMAGE_KROOT=$cache/kroot
    if [ -f "$IMAGE_KROOT/lib/modules/$IMAGE_KVER/modules.dep" ] \
        && [ -f "$IMAGE_KROOT/boot/vmlinuz-$IMAGE_KVER" ]; then
        return 0
    fi
    deb=$(image_fetch_deb "$kpkg:$debarch" "$cache/debs")
    image_log "unpacking $(basename "$deb") (not installing it)"
    rm -rf "$IMAGE_KROOT"
    mkdir -p "$IMAGE_KROOT"
    dpkg -x "$deb" "$IMAGE_KROOT" >&2
    depmod -b "$IMAGE_KROOT" "$IMAGE_KVER" >&2
}

# A static busybox for DEBARCH: the host's /bin/busybox for the native
# architecture (busybox-static), else busybox-static:DEBARCH unpacked.
image_busybox() {
    local debarch=$1 cache=$2 deb
    if [ "$debarch" = "$(dpkg --print-architecture)" ]; then
        makara_pkg_installed busybox-static || image_die "busybox-static is not installed"
        printf '%s\n' /bin/busybox
        return 0
    fi
    if [ ! -x "$cache/busybox/bin/busybox" ]; then
        image_foreign_arch "$debarch"
        deb=$(image_fetch_deb "busybox-static:$debarch" "$cache/debs")
        rm -rf "$cache/busybox"
        mkdir -p "$cache/busybox"
        dpkg -x "$deb" "$cache/busybox" >&2
    fi
    printf '%s\n' "$cache/busybox/bin/busybox"
}

# The aarch64 cross toolchain: Debian's gcc-aarch64-linux-gnu (linker, strip),
# g++-aarch64-linux-gnu (the DeckLink driver's C++ shim) and the Rust
# standard library for aarch64-unknown-linux-gnu. rustup fetches
# the latter from its own server, which these machines may not reach: then
# this says so and returns 1 (the caller builds an image without makarad).
image_cross_deps() {
    makara_apt_deps gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross \
        binutils-aarch64-linux-gnu
    if rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
        return 0
    fi
    if ! command -v rustup >/dev/null 2>&1; then
        image_log "no rustup: cannot add the Rust target aarch64-unknown-linux-gnu"
        return 1
    fi
    image_log "rustup target add aarch64-unknown-linux-gnu"
    if ! rustup target add aarch64-unknown-linux-gnu >&2; then
        image_log "rustup target add aarch64-unknown-linux-gnu failed (its server is not reachable from here?)"
        return 1
    fi
}

# libsrt (Debian's gnutls flavour, as on the host) and the runtime libraries
# of its DT_NEEDED closure, for a foreign architecture's sysroot: the dev
# package gives srt.pc and libsrt-gnutls.so for the cross link. libstdc++
# and libgcc_s are the cross toolchain's.
IMAGE_SRT_DEBS='libsrt-gnutls-dev libsrt1.5-gnutls libgnutls30 libnettle8 libhogweed6
libgmp10 libp11-kit0 libtasn1-6 libunistring2 libidn2-0 libffi8'

# The video encoders the image's FFmpeg wraps: libx265 (HEVC) and SVT-AV1
# (AV1). The host's build finds them through their -dev packages. For a
# foreign architecture's sysroot: the runtime libraries and their
# DT_NEEDED closure (libx265 needs libnuma; its libstdc++ is the cross
# toolchain's, as for libsrt) and the -dev packages with the headers and
# .pc files that FFmpeg's configure reads (libsvtav1-dev, the headers
# alone, is of architecture all).
IMAGE_ENCODER_DEV_PKGS='libx265-dev libsvtav1enc-dev'
IMAGE_ENCODER_DEBS='libx265-199 libx265-dev libnuma1 libsvtav1enc1 libsvtav1enc-dev
libsvtav1-dev:all'

# Debian's source of PKG (the exact version the host's binary packages come
# from), unpacked with its patches under DIR; prints the source tree. Adds a
# deb-src source for bookworm (+ security) once. Used to build the small
# libavcodec/libavutil of the image (scripts/build-image, docs/image.md).
IMAGE_SRC_SOURCES=$IMAGE_APT_ETC/sources.list.d/makara-bookworm-src.sources
image_debian_source() {
    local pkg=$1 dir=$2 tree
    tree=$(compgen -G "$dir/${pkg}-[0-9]*" | head -n1 || true)
    if [ -n "$tree" ] && [ -d "$tree" ]; then
        printf '%s\n' "$tree"
        return 0
    fi
    if ! grep -rqs '^Types:.*deb-src' "$IMAGE_APT_ETC/sources.list.d/" \
        && ! grep -qs '^deb-src ' "$IMAGE_APT_ETC/sources.list"; then
        image_log "adding deb-src sources for bookworm ($IMAGE_SRC_SOURCES)"
        printf '%s\n' 'Types: deb-src' 'URIs: http://deb.debian.org/debian' \
            'Suites: bookworm bookworm-updates' 'Components: main' \
            'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' '' \
            'Types: deb-src' 'URIs: http://deb.debian.org/debian-security' \
            'Suites: bookworm-security' 'Components: main' \
            'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
            | makara_as_root tee "$IMAGE_SRC_SOURCES" >/dev/null
        makara_apt_update
    fi
    makara_apt_deps dpkg-dev
    mkdir -p "$dir"
    image_log "apt-get source $pkg"
    (cd "$dir" && apt-get source -q "$pkg" 2>&1 | grep -v 'unsandboxed as root' >&2) \
        || image_die "apt-get source $pkg failed"
    tree=$(compgen -G "$dir/${pkg}-[0-9]*" | head -n1 || true)
    [ -n "$tree" ] && [ -d "$tree" ] || image_die "apt-get source $pkg left no source tree in $dir"
    printf '%s\n' "$tree"
}
