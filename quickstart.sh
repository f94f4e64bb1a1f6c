#!/usr/bin/env bash
# minidock's quick start: builds minidock, makes a busybox root filesystem
# offline from the distribution's busybox-static, and runs containers in it,
# printing each command before it runs it.
#
#   sudo ./quickstart.sh
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" != 0 ]; then
    echo "needs root: containers need namespaces and mounts. Run: sudo $0" >&2
    exit 1
fi
for d in "${CARGO_HOME:-$HOME/.cargo}/bin" /root/.cargo/bin; do
    [ -d "$d" ] && PATH="$d:$PATH"
done
command -v cargo >/dev/null || { echo "cargo is missing: install Rust with https://rustup.rs, then rerun" >&2; exit 1; }

run() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

if ! [ -x /bin/busybox ]; then
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static
fi

run cargo build --release --quiet -p minidock-namespaces --example run
example=target/release/examples/run

# A root filesystem: one static binary and a link per applet. It is kept
# under target/ so you can run more containers in it afterwards.
rootfs="$PWD/target/quickstart-rootfs"
rm -rf "$rootfs"
run mkdir -p "$rootfs/bin" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/tmp" "$rootfs/etc"
run cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
    [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" > "$rootfs/etc/passwd"
echo "(linked $(/bin/busybox --list | wc -l) applets into $rootfs/bin)"

# Chapter 01: a container is an isolated process.
run "$example" "$rootfs" /bin/sh -c 'echo "hello from $(hostname), I am PID $$"'
run "$example" "$rootfs" /bin/ps
run "$example" "$rootfs" /bin/sh -c 'ls /sys/class/net; grep CapEff /proc/self/status'
run "$example" "$rootfs" /bin/sh -c 'exit 42' || echo "(exit status $? came back from the container)"

printf '\nDone. For an interactive shell: sudo %s %s /bin/sh\n' "$example" "$rootfs"
