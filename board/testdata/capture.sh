#!/bin/sh
# Copies what makara-board reads from /sys/class/net and /proc/net into a
# fixture tree: DEST/sys_class_net/<nic>/<attribute> and DEST/proc_net/*.
# Attributes the kernel refuses to read (EINVAL for `speed` on virtual
# NICs, `carrier` on down ones) are left out, which the crate treats the
# same way. A `device` symlink becomes an empty `device` file (git keeps no
# empty directories; the crate only checks that it exists).
#
#   testdata/capture.sh testdata/vm                      # this machine
#   testdata/capture.sh testdata/netns --netns           # scripted scenario
#
# --netns builds a throwaway network namespace (see `scenario` below) and
# captures that instead; it needs root and leaves the host untouched.
set -eu
dest=$1

capture() {
    rm -rf "$dest"
    mkdir -p "$dest/sys_class_net" "$dest/proc_net"
    for nic in /sys/class/net/*; do
        [ -d "$nic" ] || continue
        out="$dest/sys_class_net/$(basename "$nic")"
        mkdir -p "$out"
        for attr in address mtu operstate carrier speed type flags; do
            cat "$nic/$attr" >"$out/$attr" 2>/dev/null || rm -f "$out/$attr"
        done
        if [ -e "$nic/device" ]; then : >"$out/device"; fi
    done
    for f in fib_trie route if_inet6; do
        cat "/proc/net/$f" >"$dest/proc_net/$f"
    done
}

scenario() {
    mount -t sysfs sysfs /sys  # this namespace's NICs, in a private mount ns
    ip link set lo up
    ip link add veth0 type veth peer name veth1
    ip link set veth0 up; ip link set veth1 up
    ip addr add 192.168.1.50/24 dev veth0
    ip addr add 192.168.1.51/24 dev veth0            # secondary
    ip addr add 2001:db8:1::50/64 dev veth0 nodad
    ip addr add 10.20.0.5/16 dev veth1
    ip link add br0 type bridge; ip link set br0 up  # no ports: no carrier
    ip addr add 172.17.0.1/16 dev br0
    ip tuntap add tap0 mode tap
    ip addr add 10.30.0.1/24 dev tap0                # admin down
    ip link add ifb9 type ifb; ip link set ifb9 up
    ip addr add 10.99.0.1/32 dev ifb9                # no prefix route
    ip route add default via 192.168.1.1
    ip route add 10.40.0.0/16 via 10.20.0.1
    sleep 1                                           # link-local addresses
    capture
}

case ${2:-} in
--netns) exec unshare --net --mount --propagation private "$0" "$dest" --inside ;;
--inside) scenario ;;
*) capture ;;
esac
