#!/usr/bin/env bash
# Benchmarks of chapter 06's networking (ratios, not timed tests):
#
#   1. the cost of network setup: `minidock run --rm busybox true` on the
#      default bridge vs `--network none` (hyperfine, medians of every run
#      over ROUNDS rounds, default 5, the order turning: see bench/lib.sh);
#   2. TCP throughput through a published port (the userland proxy) vs
#      straight to the container's address: 256 MiB from bash's /dev/tcp
#      into busybox nc in the container.
#
#   sudo bench/net.sh
#   PROFILE=debug sudo bench/net.sh   (the debug build, no release build)
#   BIN=DIR sudo bench/net.sh         (the binaries in DIR, no build)
#   PARTS=1 or PARTS=2 sudo bench/net.sh   (one part alone)
#   TCP_ROUNDS=N: rounds of the throughput part (default 7)
#   ROOT_FS=ext4: the engine's root on a fresh, journaled ext4 image (bench/lib.sh)
#
# Targets (issue: chapter 06): network setup <= 5 ms on the median; the
# published port >= 0.9x the direct path.
#
# The daemon gets a subnet of its own in 172.16.0.0/12 and a cgroup parent
# of its own, and leaves nothing behind (bench/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

if [ "$(id -u)" != 0 ]; then
    echo "needs root: containers and bridges. Run: sudo $0" >&2
    exit 1
fi
for tool in hyperfine busybox jq ip nft; do
    command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install hyperfine busybox-static jq iproute2 nftables" >&2; exit 1; }
done

subnet=${SUBNET:-172.31.240.0/24}
# PROFILE=debug measures the debug build already there (no release build).
profile=${PROFILE:-release}
echo "building minidock and minidockd ($profile)…"
if [ -n "${BIN:-}" ]; then
    echo "(no build: BIN=$BIN)"
elif [ "$profile" = release ]; then
    cargo build --release --quiet -p minidock --bin minidock --bin minidockd
else
    cargo build --quiet -p minidock --bin minidock --bin minidockd
fi
bin=${BIN:-target/$profile}

dir=$(mktemp -d /tmp/minidock-netbench.XXXXXX)
sock=$dir/d.sock
md() { "$bin/minidock" -H "unix://$sock" "$@"; }
daemon_pid=
cleanup() {
    if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
        for id in $(md ps -aq); do md rm -f "$id" >/dev/null || true; done
        md network prune -f >/dev/null || true
        kill "$daemon_pid"
        wait "$daemon_pid" 2>/dev/null || true
    fi
    bench_cleanup_host "$dir"
    rm -rf --one-file-system "$dir"
}
trap cleanup EXIT

bench_state_tmpfs "$dir"
disk=$(bench_disk "$dir")
bench_disk_note "$disk"
# shellcheck disable=SC2046 # the flags are words
"$bin/minidockd" $(SUBNET=$subnet bench_daemon_flags "$dir") \
    --root "$disk/root" --run "$dir/state/run" -H "unix://$sock" 2>"$dir/minidockd.log" &
daemon_pid=$!
for _ in $(seq 100); do
    [ -S "$sock" ] && md version >/dev/null 2>&1 && break
    sleep 0.05
done

# A busybox image from the host's static busybox.
mkdir -p "$dir/rootfs/bin"
cp "$(command -v busybox)" "$dir/rootfs/bin/busybox"
for a in $("$dir/rootfs/bin/busybox" --list); do
    [ "$a" = busybox ] || ln -sf /bin/busybox "$dir/rootfs/bin/$a"
done
tar -C "$dir/rootfs" -cf "$dir/bb.tar" .
md import "$dir/bb.tar" busybox >/dev/null

if [ "${PARTS:-12}" != 2 ]; then
echo
echo "== 1. run --rm: default bridge vs --network none"
rounds=${ROUNDS:-5}
per_round=$(((${RUNS:-30} + rounds - 1) / rounds))
none_cmd="$bin/minidock -H unix://$sock run --rm --network none busybox true"
bridge_cmd="$bin/minidock -H unix://$sock run --rm busybox true"
files=()
for round in $(seq "$rounds"); do
    # The order turns each round (see bench/lib.sh).
    if [ $((round % 2)) = 1 ]; then
        order=(-n none "$none_cmd" -n bridge "$bridge_cmd")
    else
        order=(-n bridge "$bridge_cmd" -n none "$none_cmd")
    fi
    hyperfine -N --style none --warmup 2 --runs "$per_round" \
        --export-json "$dir/run-$round.json" "${order[@]}"
    files+=("$dir/run-$round.json")
done
for name in none bridge; do
    bench_pooled "$name" "${files[@]}" | awk -F'\t' -v n="$name" \
        '{ printf "%-7s %6.1f ms on the median [p25 %.1f, p75 %.1f, %d runs]\n", n, $1, $2, $3, $4 }'
done
none=$(bench_pooled none "${files[@]}" | cut -f1)
bridge=$(bench_pooled bridge "${files[@]}" | cut -f1)
per_round_setup=$(paste <(bench_round_medians bridge "${files[@]}") <(bench_round_medians none "${files[@]}") |
    awk '{ d = $1 - $2; if (NR == 1 || d < lo) lo = d; if (NR == 1 || d > hi) hi = d }
        END { printf "%.1f to %.1f", lo, hi }')
awk -v n="$none" -v b="$bridge" -v r="$per_round_setup" 'BEGIN {
    printf "network setup: %.1f ms on the median (target <= 5 ms; rounds: %s ms)\n", b - n, r }'

fi
if [ "${PARTS:-12}" = 1 ]; then
    exit 0
fi

echo
echo "== 2. TCP throughput: published port vs the container's address"
mib=${MIB:-256}
md run -d --name sink -p 127.0.0.1::9000 busybox sh -c 'while true; do nc -l -p 9000 > /dev/null; done' >/dev/null
port=$(md port sink 9000 | cut -d: -f2)
ip=$(md inspect -f '{{json .NetworkSettings.Networks}}' sink | jq -r .bridge.IPAddress)
sleep 0.5
send() { # HOST PORT
    local start end
    # The container's nc serves one connection at a time: wait until the
    # next one listens (the proxy accepts even when it does not).
    md exec sink sh -c 'until netstat -ltn | grep -q ":9000 "; do usleep 10000; done'
    start=$(date +%s.%N)
    head -c "$((mib * 1024 * 1024))" /dev/zero > "/dev/tcp/$1/$2"
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" -v m="$mib" 'BEGIN { printf "%.1f", m / (e - s) }'
}
# Interleaved rounds, the order turning (see bench/lib.sh): the figures are
# the medians of every send, and the ratio's range over the rounds.
direct_all=()
proxied_all=()
ratios=()
for round in $(seq "${TCP_ROUNDS:-7}"); do
    if [ $((round % 2)) = 1 ]; then
        d=$(send "$ip" 9000)
        p=$(send 127.0.0.1 "$port")
    else
        p=$(send 127.0.0.1 "$port")
        d=$(send "$ip" 9000)
    fi
    direct_all+=("$d")
    proxied_all+=("$p")
    ratios+=("$(awk -v d="$d" -v p="$p" 'BEGIN { printf "%.3f", p / d }')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = (NR + 1) / 2; printf "%.2f", (v[int(m)] + v[int(m + 0.5)]) / 2 }'; }
direct=$(median "${direct_all[@]}")
proxied=$(median "${proxied_all[@]}")
echo "direct to $ip:9000: $direct MiB/s on the median (${direct_all[*]})"
echo "published 127.0.0.1:$port: $proxied MiB/s on the median (${proxied_all[*]})"
echo "published / direct = $(median "${ratios[@]}")x, the median of ${#ratios[@]} rounds (range $(printf '%s\n' "${ratios[@]}" | sort -g | sed -n '1p;$p' | paste -sd- | sed 's/-/–/')) (target >= 0.9x)"
echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
