#!/usr/bin/env bash
# How long does `minidock run --rm busybox true` take, next to crun, runc
# and, when one answers, Docker — in one run, on one machine?
#
# Usage: sudo bench/run-latency.sh [RUNS]        (default: 50 runs per command)
#        ROUNDS=N (default 5): the runs come in N rounds, the commands' order
#        turning each round (see bench/lib.sh)
#        BIN=DIR: the minidock and minidockd in DIR, no build
#        ROOT_FS=ext4: the engine's root on a fresh, journaled ext4 image
#        (loop-mounted) instead of the disk /tmp is on (see bench/lib.sh)
#
#   1. builds minidock and minidockd (release);
#   2. makes a busybox root filesystem from the host's static busybox
#      (apt-get install busybox-static);
#   3. starts minidockd with its own root, run directory and socket, and
#      imports that rootfs as busybox:latest; the run directory, and crun's
#      and runc's state, on a tmpfs, as /run is on a real install;
#   4. makes an OCI bundle of the same rootfs with `runc spec` (process: true);
#   5. times, with hyperfine, inside a private mount namespace where
#      /sys/fs/cgroup/unified is unmounted (crun refuses a hybrid cgroup
#      host otherwise; every command runs in that namespace, so all are
#      treated alike):
#        minidock run --rm busybox true   (client → minidockd → container)
#        crun run, runc run                (the same rootfs, no daemon)
#        docker run --rm busybox true      (if a Docker engine answers)
#      and `minidock ps` beside `docker ps`;
#   6. prints the medians of every run with their spread, and the ratios
#      (and their range over the rounds). Targets: minidock ≤ 2× crun's
#      median, and ≥ 5× faster than Docker.
#
# Needs: root, hyperfine, runc, crun, jq, busybox-static, cargo.
#
# A Docker engine to compare with, without installing one over the host's
# docker CLI: unpack Debian's engine and start it beside minidock, then point
# this script at it with DOCKER_HOST:
#
#   mkdir -p /tmp/dockerio && cd /tmp/dockerio && apt-get download docker.io containerd
#   for f in *.deb; do dpkg -x "$f" root; done
#   PATH=$PWD/root/usr/bin:$PWD/root/usr/sbin:$PATH dockerd --bridge=none \
#       --iptables=false --ip6tables=false --data-root $PWD/data \
#       --exec-root $PWD/exec -H unix://$PWD/docker.sock &
#   DOCKER_HOST=unix:///tmp/dockerio/docker.sock sudo -E bench/run-latency.sh
set -euo pipefail

runs=${1:-50}
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib.sh"

die() { echo "run-latency: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (containers): sudo $0"
for tool in hyperfine runc crun jq unshare cargo; do
    command -v "$tool" >/dev/null || die "$tool is missing: apt-get install $tool"
done
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || die "busybox is missing: apt-get install busybox-static"

if [ -n "${BIN:-}" ]; then
    echo "== the binaries in BIN=$BIN (no build)"
    bin=$BIN
else
    echo "== building minidock (release)"
    (cd "$repo" && cargo build --release -q -p minidock --bin minidock --bin minidockd)
    bin=$repo/target/release
fi
for b in minidock minidockd; do [ -x "$bin/$b" ] || die "$bin/$b was not built"; done

work=$(mktemp -d /tmp/minidock-bench.XXXXXX)
daemon_pid=
cleanup() {
    if [ -n "$daemon_pid" ]; then
        kill -TERM "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
    fi
    bench_cleanup_host "$work"
    # --one-file-system: never walk into a mount that is still there.
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT

echo "== busybox rootfs, OCI bundle"
rootfs=$work/bundle/rootfs
mkdir -p "$rootfs"/{bin,dev,etc,proc,sys,tmp,root}
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s /bin/busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"
(cd "$work/bundle" && runc spec &&
    jq '.process.args = ["true"] | .process.terminal = false' config.json >config.new &&
    mv config.new config.json)
tar -C "$rootfs" -cf "$work/rootfs.tar" .

echo "== minidockd"
bench_state_tmpfs "$work"
disk=$(bench_disk "$work")
bench_disk_note "$disk"
socket=$work/state/run/minidock.sock
host=unix://$socket
# The default network (as `docker run` has), on a subnet of the bench's own.
# shellcheck disable=SC2046 # the flags are words
"$bin/minidockd" $(bench_daemon_flags "$work") --root "$disk/root" --run "$work/state/run" \
    -H "$host" 2>"$work/minidockd.log" &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.05; done
[ -S "$socket" ] || die "minidockd did not start: $(cat "$work/minidockd.log")"
"$bin/minidock" -H "$host" import "$work/rootfs.tar" busybox:latest >/dev/null
"$bin/minidock" -H "$host" run --rm busybox true ||
    die "minidock run failed; minidockd's log: $(cat "$work/minidockd.log")"

docker_run=()
docker_ps=()
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    echo "== docker: importing the same rootfs as minidock-bench/busybox"
    docker import "$work/rootfs.tar" minidock-bench/busybox:latest >/dev/null
    docker_run=(-n "docker run --rm busybox true" "docker run --rm minidock-bench/busybox true")
    docker_ps=(-n "docker ps" "docker ps")
else
    echo "== note: no Docker engine answers here (docker info failed): docker is left out"
fi

docker_run_args=
docker_ps_args=
if [ ${#docker_run[@]} -gt 0 ]; then
    docker_run_args=$(printf '%q ' "${docker_run[@]}")
    docker_ps_args=$(printf '%q ' "${docker_ps[@]}")
fi

rounds=${ROUNDS:-5}
per_round=$(((runs + rounds - 1) / rounds))
echo "== hyperfine ($rounds rounds of $per_round runs each, the order turning)"
inner=$work/inner.sh
cat >"$inner" <<EOF
set -e
# Only in this private mount namespace: crun needs a pure v1 view.
umount /sys/fs/cgroup/unified 2>/dev/null || true
for round in \$(seq $rounds); do
    minidock=(-n "minidock run --rm busybox true" "$bin/minidock -H $host run --rm busybox true")
    crun=(-n "crun run" "crun --root $work/state/crun run -b $work/bundle bench-crun")
    runc=(-n "runc run" "runc --root $work/state/runc run -b $work/bundle bench-runc")
    docker=(${docker_run_args})
    case \$((round % 3)) in
        1) order=("\${minidock[@]}" "\${crun[@]}" "\${runc[@]}" "\${docker[@]}") ;;
        2) order=("\${crun[@]}" "\${runc[@]}" "\${docker[@]}" "\${minidock[@]}") ;;
        *) order=("\${runc[@]}" "\${docker[@]}" "\${minidock[@]}" "\${crun[@]}") ;;
    esac
    hyperfine -N --style none --warmup 2 --runs $per_round \\
        --export-json "$work/run-\$round.json" "\${order[@]}"
    hyperfine -N --style none --warmup 2 --runs $((per_round * 2)) \\
        --export-json "$work/ps-\$round.json" \\
        -n "minidock ps" "$bin/minidock -H $host ps" ${docker_ps_args}
done
EOF
unshare -m --propagation private bash "$inner"

run_files=()
ps_files=()
for round in $(seq "$rounds"); do
    run_files+=("$work/run-$round.json")
    ps_files+=("$work/ps-$round.json")
done
pooled() { bench_pooled "$1" "${@:2}" | cut -f1; }
spread() { bench_pooled "$1" "${@:2}" | awk -F'\t' '{ printf "[p25 %.1f, p75 %.1f, %d runs]", $2, $3, $4 }'; }
rounds_of() { bench_round_medians "$1" "${@:2}" | tr '\n' ' '; }
ms() { printf '%8.1f ms' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

minidock_run=$(pooled "minidock run --rm busybox true" "${run_files[@]}")
crun_run=$(pooled "crun run" "${run_files[@]}")
runc_run=$(pooled "runc run" "${run_files[@]}")
minidock_ps=$(pooled "minidock ps" "${ps_files[@]}")
minidock_rounds=$(rounds_of "minidock run --rm busybox true" "${run_files[@]}")
crun_rounds=$(rounds_of "crun run" "${run_files[@]}")
runc_rounds=$(rounds_of "runc run" "${run_files[@]}")

echo
echo "== medians of every run ($(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
for name in "minidock run --rm busybox true" "crun run" "runc run"; do
    printf '%-34s %s %s\n' "$name" "$(ms "$(pooled "$name" "${run_files[@]}")")" \
        "$(spread "$name" "${run_files[@]}")"
done
printf '%-34s %s× crun (target ≤ 2×; rounds %s), %s× runc (rounds %s)\n' "minidock / crun, runc" \
    "$(ratio "$minidock_run" "$crun_run")" "$(bench_ratio_range "$minidock_rounds" "$crun_rounds")" \
    "$(ratio "$minidock_run" "$runc_run")" "$(bench_ratio_range "$minidock_rounds" "$runc_rounds")"
if [ ${#docker_run[@]} -gt 0 ]; then
    docker_median=$(pooled "docker run --rm busybox true" "${run_files[@]}")
    printf '%-34s %s   minidock is %s× faster (target ≥ 5×)\n' "docker run --rm busybox true" \
        "$(ms "$docker_median")" "$(ratio "$docker_median" "$minidock_run")"
else
    printf '%-34s %s\n' "docker run --rm busybox true" "   (no Docker engine here)"
fi
printf '%-34s %s %s\n' "minidock ps" "$(ms "$minidock_ps")" "$(spread "minidock ps" "${ps_files[@]}")"
if [ ${#docker_ps[@]} -gt 0 ]; then
    docker_ps_median=$(pooled "docker ps" "${ps_files[@]}")
    printf '%-34s %s   minidock is %s× faster\n' "docker ps" "$(ms "$docker_ps_median")" \
        "$(ratio "$docker_ps_median" "$minidock_ps")"
else
    printf '%-34s %s\n' "docker ps" "   (no Docker engine here)"
fi
