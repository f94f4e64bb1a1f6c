#!/usr/bin/env bash
# Benchmarks of minidockd, the daemon of chapter 05:
#
#   1. idle memory: VmRSS of a started daemon that has served a few requests,
#      beside dockerd's (+ containerd's) when a Docker engine runs here;
#   2. `GET /containers/json?all=1` latency with 500 containers (created, not
#      started): the median of 50 requests, measured by curl itself (connect
#      to last byte), so the client's start-up is not counted.
#
#   sudo bench/daemon.sh            (needs root: containers mount overlays)
#   CONTAINERS=100 sudo bench/daemon.sh
#
# Targets (issue: chapter 05): idle RSS <= 15 MB; list of 500 <= 20 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

containers=${CONTAINERS:-500}
requests=50

if [ "$(id -u)" != 0 ]; then
    echo "needs root: the daemon mounts each container's root filesystem. Run: sudo $0" >&2
    exit 1
fi
for tool in curl busybox; do
    command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install curl busybox-static" >&2; exit 1; }
done

echo "building minidockd (release)…"
cargo build --release --quiet -p minidock --bin minidockd
bin=target/release/minidockd

dir=$(mktemp -d /tmp/minidock-bench.XXXXXX)
sock=$dir/d.sock
daemon_pid=
cleanup() {
    if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
        # Remove every container through the API: the daemon unmounts them.
        for id in $(api GET "/containers/json?all=1" | grep -o '"Id":"[0-9a-f]*"' | cut -d'"' -f4); do
            api DELETE "/containers/$id?force=1" >/dev/null || true
        done
        kill "$daemon_pid"
        wait "$daemon_pid" 2>/dev/null || true
    fi
    bench_cleanup_host "$dir"
    rm -rf --one-file-system "$dir"
}
trap cleanup EXIT

api() { # METHOD PATH [curl args…]
    local method=$1 path=$2
    shift 2
    curl -sS --fail-with-body --unix-socket "$sock" -X "$method" "http://minidock/v1.44$path" "$@"
}

"$bin" --root "$dir/root" --run "$dir/run" --cgroup-parent "$(basename "$dir")" \
    --bridge-subnet none -H "unix://$sock" 2>"$dir/minidockd.log" &
daemon_pid=$!
for _ in $(seq 100); do
    [ -S "$sock" ] && api GET /_ping >/dev/null 2>&1 && break
    sleep 0.05
done
api GET /_ping >/dev/null

# A busybox image, imported from the host's busybox-static.
rootfs=$dir/rootfs
mkdir -p "$rootfs/bin" "$rootfs/etc"
cp "$(command -v busybox)" "$rootfs/bin/busybox"
ln -s busybox "$rootfs/bin/sh"
ln -s busybox "$rootfs/bin/true"
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
tar -C "$rootfs" -cf "$dir/rootfs.tar" .
api POST "/images/create?fromSrc=-&repo=busybox&tag=latest" \
    -H 'Content-Type: application/x-tar' --data-binary "@$dir/rootfs.tar" >/dev/null
api GET /version >/dev/null
api GET /info >/dev/null

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
sleep 2 # let the blocking pool's idle threads go
idle=$(rss_kb "$daemon_pid")
printf '\nidle RSS\n'
mb() { awk -v kb="$1" 'BEGIN { printf "%6.1f MB", kb / 1024 }'; }
printf '  minidockd                %s\n' "$(mb "$idle")"
docker_total=0
for name in dockerd containerd; do
    for pid in $(pgrep -x "$name" || true); do
        kb=$(rss_kb "$pid")
        printf '  %-24s %s\n' "$name (pid $pid)" "$(mb "$kb")"
        docker_total=$((docker_total + kb))
    done
done
if [ "$docker_total" = 0 ]; then
    echo "  dockerd                  not running here: no comparison"
fi

printf '\ncreating %d containers…\n' "$containers"
start=$(date +%s%N)
for i in $(seq "$containers"); do
    api POST "/containers/create?name=bench$i" -H 'Content-Type: application/json' \
        -d '{"Image":"busybox","Cmd":["true"]}' >/dev/null
done
end=$(date +%s%N)
awk -v ns=$((end - start)) -v n="$containers" 'BEGIN { printf "  %.1f ms per create\n", ns / 1e6 / n }'

count=$(api GET "/containers/json?all=1" | grep -o '"Id"' | wc -l)
[ "$count" = "$containers" ] || { echo "expected $containers containers in the list, got $count" >&2; exit 1; }
for _ in 1 2 3; do api GET "/containers/json?all=1" >/dev/null; done # warm up
times=$(for _ in $(seq "$requests"); do
    curl -s -o /dev/null -w '%{time_total}\n' --unix-socket "$sock" "http://minidock/v1.44/containers/json?all=1"
done | sort -n)
median=$(echo "$times" | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }')
p90=$(echo "$times" | awk -v n="$requests" 'NR == int(n * 0.9) { print $1 }')
printf '\nGET /containers/json?all=1 with %d containers (%d requests)\n' "$containers" "$requests"
awk -v m="$median" -v p="$p90" 'BEGIN { printf "  median %.2f ms, p90 %.2f ms\n", m * 1000, p * 1000 }'
printf '  RSS with %d containers: %s\n' "$containers" "$(mb "$(rss_kb "$daemon_pid")")"
