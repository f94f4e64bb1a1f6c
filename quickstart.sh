#!/usr/bin/env bash
# minidock's quick start: builds minidock, starts the daemon, makes a busybox
# image offline from the distribution's busybox-static, walks a container
# through its lifecycle, and opens the dashboard (`minidock desktop`), printing
# each command before it runs it. On a terminal it prints the dashboard's URL
# and waits for Enter while you look; otherwise it fetches the page once.
#
#   sudo ./quickstart.sh
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" != 0 ]; then
    echo "needs root: containers need namespaces, mounts and cgroups. Run: sudo $0" >&2
    exit 1
fi
for d in "${CARGO_HOME:-$HOME/.cargo}/bin" /root/.cargo/bin; do
    [ -d "$d" ] && PATH="$d:$PATH"
done
command -v cargo >/dev/null || { echo "cargo is missing: install Rust with https://rustup.rs, then rerun" >&2; exit 1; }

run() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
note() { printf '\n\033[2m# %s\033[0m\n' "$*"; }

if ! [ -x /bin/busybox ]; then
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static
fi

note "build the client (minidock) and the daemon (minidockd)"
run cargo build --release --quiet -p minidock --bin minidock --bin minidockd
PATH="$PWD/target/release:$PATH"

# Everything this demo makes lives in one directory, removed at the end.
work=$(mktemp -d /tmp/minidock-quickstart.XXXXXX)
daemon=""
desktop=""
cleanup() {
    if [ -n "$desktop" ] && kill -0 "$desktop" 2>/dev/null; then
        kill -TERM "$desktop"
        wait "$desktop" 2>/dev/null || true
    fi
    if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
        # Containers outlive their daemon (each has its shim): remove them first.
        minidock ps -aq 2>/dev/null | xargs -r minidock rm -f >/dev/null 2>&1 || true
        kill -TERM "$daemon"
        wait "$daemon" 2>/dev/null || true
    fi
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

note "a busybox root filesystem: one static binary and a link per applet"
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{bin,etc,tmp,proc,sys,dev,root}
chmod 1777 "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
    [ -e "$rootfs/bin/$applet" ] || ln -s /bin/busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' > "$rootfs/etc/group"
run tar -C "$rootfs" -cf "$work/busybox.tar" .

note "start the daemon on its own socket and state directory"
printf '\n\033[1m$ minidockd --root %s --run %s --bridge-subnet none -H unix://%s &\033[0m\n' "$work/root" "$work/run" "$work/minidock.sock"
# setsid: a session of its own, so that Ctrl-C at the terminal reaches only this
# script, whose cleanup then removes the containers before it stops the daemon.
setsid minidockd --root "$work/root" --run "$work/run" --bridge-subnet none -H "unix://$work/minidock.sock" 2>"$work/minidockd.log" &
daemon=$!
for _ in $(seq 200); do [ -S "$work/minidock.sock" ] && break; sleep 0.05; done
[ -S "$work/minidock.sock" ] || { echo "minidockd did not start:" >&2; cat "$work/minidockd.log" >&2; exit 1; }
export MINIDOCK_HOST="unix://$work/minidock.sock"

run minidock version
note "docker import: a plain rootfs tar becomes a one-layer image"
run minidock import "$work/busybox.tar" busybox:latest
run minidock images

note "run = create + start + attach + wait; --rm removes it afterwards"
run minidock run --rm busybox echo hello from a container
run minidock run --name first busybox sh -c 'echo "hello from $(hostname), PID $$"; exit 3' || echo "(exit code $? came back from the container)"
run minidock ps -a
run minidock logs first

note "the lifecycle: create, start, pause, unpause, exec, stop, rm"
run minidock create --name web busybox sleep 300
run minidock start web
run minidock pause web
run minidock ps
run minidock unpause web
run minidock exec web ps
run minidock stop -t 1 web
run minidock rm first web
run minidock ps -a

note "the dashboard: minidock desktop serves a page of the containers on 127.0.0.1, behind a one-time token"
run minidock run -d --name greeter busybox sh -c 'trap "exit 0" TERM; while true; do echo "hello at $(date +%T)"; sleep 2; done'
printf '\n\033[1m$ minidock desktop &\033[0m\n'
setsid minidock desktop > "$work/desktop.out" 2>&1 &
desktop=$!
url=""
for _ in $(seq 200); do
    url=$(grep -o 'http://[^ ]*' "$work/desktop.out" || true)
    [ -n "$url" ] && break
    kill -0 "$desktop" 2>/dev/null || break
    sleep 0.05
done
[ -n "$url" ] || { echo "minidock desktop did not start:" >&2; cat "$work/desktop.out" >&2; exit 1; }
printf '\n\033[1mThe dashboard is at %s\033[0m\n' "$url"
if [ -t 0 ] && [ -t 1 ]; then
    port=${url#http://127.0.0.1:}
    port=${port%%/*}
    echo "Open it in a browser on this machine (from another machine: ssh -L $port:127.0.0.1:$port to this one, then the same URL)."
    read -r -p "Press Enter to stop the dashboard and the daemon (Ctrl-C works too). " _ || true
else
    note "not on a terminal: fetch the page once instead of waiting for a browser"
    # -b '' turns curl's cookie engine on: the URL answers with the token's cookie and a redirect.
    if command -v curl >/dev/null; then
        run sh -c "curl -fsS -L -b '' '$url' | grep -o '<title>[^<]*</title>'"
    else
        echo "(curl is not installed: the page is not fetched)"
    fi
fi
run kill -TERM "$desktop"
wait "$desktop" 2>/dev/null || true
desktop=""
run minidock rm -f greeter

note "stop the daemon"
run kill -TERM "$daemon"
wait "$daemon" 2>/dev/null || true
daemon=""
printf '\nDone. The book (book/, "mdbook serve book") explains each step; README.md has the map.\n'
