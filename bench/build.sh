#!/usr/bin/env bash
# Benchmark of chapter 08's builder: a cold build and a fully cached rebuild
# of the same Dockerfile (COPY, RUN, config steps), with `minidock build`
# against minidockd, beside Docker's classic builder (DOCKER_BUILDKIT=0)
# when a Docker engine answers on its default socket.
#
#   sudo bench/build.sh          (needs root: RUN steps are containers)
#
# Target (issue: chapter 08): cached rebuild <= 0.5x Docker's.
#
# A Docker engine to compare with, without installing one over the host's
# docker CLI: unpack Debian's engine and start it beside minidock (see
# bench/run-latency.sh), then point this script at it with DOCKER_HOST:
#
#   mkdir -p /tmp/dockerio && cd /tmp/dockerio && apt-get download docker.io containerd
#   for f in *.deb; do dpkg -x "$f" root; done
#   PATH=$PWD/root/usr/bin:$PWD/root/usr/sbin:$PATH dockerd --bridge=none \
#       --iptables=false --ip6tables=false --data-root $PWD/data \
#       --exec-root $PWD/exec -H unix://$PWD/docker.sock &
#   DOCKER_HOST=unix:///tmp/dockerio/docker.sock sudo -E bench/build.sh
#
# (With --bridge=none Docker's RUN steps get no network, while minidock's
# are wired to its default bridge: the cold build favours Docker a little.)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

if [ "$(id -u)" != 0 ]; then
    echo "needs root: RUN steps run containers. Run: sudo $0" >&2
    exit 1
fi
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { echo "busybox is missing: apt-get install busybox-static" >&2; exit 1; }

echo "building minidock and minidockd (release)…"
cargo build --release --quiet -p minidock
bin=target/release

dir=$(mktemp -d /tmp/minidock-bench-build.XXXXXX)
sock=$dir/d.sock
host=unix://$sock
daemon_pid=
cleanup() {
    if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill "$daemon_pid"
        wait "$daemon_pid" 2>/dev/null || true
    fi
    bench_cleanup_host "$dir"
    rm -rf --one-file-system "$dir"
}
trap cleanup EXIT

# shellcheck disable=SC2046 # the flags are words
"$bin/minidockd" $(bench_daemon_flags "$dir") --root "$dir/root" --run "$dir/run" \
    -H "$host" 2>"$dir/minidockd.log" &
daemon_pid=$!
for _ in $(seq 100); do
    "$bin/minidock" -H "$host" version >/dev/null 2>&1 && break
    sleep 0.05
done

# busybox:latest from the host's static busybox
rootfs=$dir/rootfs
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -sf /bin/busybox "$rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
tar -C "$rootfs" -cf "$dir/rootfs.tar" .
"$bin/minidock" -H "$host" import -c 'ENV PATH=/bin' "$dir/rootfs.tar" busybox:latest >/dev/null

# the context: a Dockerfile with every kind of step
ctx=$dir/ctx
mkdir -p "$ctx/src"
for i in $(seq 200); do head -c 4096 /dev/urandom >"$ctx/src/file$i"; done
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM busybox
ARG VERSION=1
ENV APP=/app
WORKDIR /app
COPY src/ ./src/
RUN cat src/* | md5sum > sum && mkdir -p /data
RUN echo "version $VERSION" > version
LABEL bench=build
CMD ["cat", "/app/sum"]
DOCKERFILE

ms() { # COMMAND…: wall time in ms
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
spread() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { printf "%d..%d", a[1], a[NR] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
runs=${RUNS:-7}

docker_ok=
if command -v docker >/dev/null && docker version >/dev/null 2>&1; then
    docker_ok=1
    export DOCKER_BUILDKIT=0
    docker import -c 'ENV PATH=/bin' "$dir/rootfs.tar" minidock-bench/busybox:latest >/dev/null
    # The same files, a Dockerfile naming Docker's copy of the base image.
    cp -a "$ctx" "$dir/dctx"
    sed -i 's|^FROM busybox|FROM minidock-bench/busybox|' "$dir/dctx/Dockerfile"
fi

cold=$(ms "$bin/minidock" -H "$host" build -t bench:1 "$ctx")
if [ -n "$docker_ok" ]; then
    dcold=$(ms docker build --no-cache -t minidock-bench/build:1 "$dir/dctx" 2>/dev/null)
fi
# Cached rebuilds, minidock and Docker in turns: a busy machine slows
# both alike.
cached=()
dcached=()
for _ in $(seq "$runs"); do
    cached+=("$(ms "$bin/minidock" -H "$host" build -t bench:1 "$ctx")")
    if [ -n "$docker_ok" ]; then
        dcached+=("$(ms docker build -t minidock-bench/build:1 "$dir/dctx" 2>/dev/null)")
    fi
done
printf '\nminidock build (%d files in the context; load: %s)\n' 200 "$(cut -d' ' -f1-3 /proc/loadavg)"
mcached=$(median "${cached[@]}")
printf '  cold build       %6d ms\n' "$cold"
printf '  cached rebuild   %6d ms (median of %d, %s ms)\n' "$mcached" "$runs" "$(spread "${cached[@]}")"

if [ -n "$docker_ok" ]; then
    printf '\ndocker build (classic builder)\n'
    dmcached=$(median "${dcached[@]}")
    printf '  cold build       %6d ms\n' "$dcold"
    printf '  cached rebuild   %6d ms (median of %d, %s ms)\n' "$dmcached" "$runs" "$(spread "${dcached[@]}")"
    printf '\nminidock / docker\n'
    printf '  cold build       %6sx\n' "$(ratio "$cold" "$dcold")"
    printf '  cached rebuild   %6sx (goal: <= 0.5x)\n' "$(ratio "$mcached" "$dmcached")"
    docker rmi -f minidock-bench/build:1 minidock-bench/busybox:latest >/dev/null 2>&1 || true
else
    echo
    echo "docker build: no Docker engine answers here, no comparison"
fi
