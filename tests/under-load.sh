#!/usr/bin/env bash
# The whole test suite, again and again, on a machine kept busy by a CPU hog
# (`stress-ng --cpu 2`): CI must be green on a busy machine, and a test that
# samples process, cgroup or timing state instead of waiting for the exact
# condition it asserts fails here sooner or later.
#
#   sudo tests/under-load.sh [RUNS]     (default 10; stops at nothing, reports each run)
#
# Runs CI's own test line (see test.sh) RUNS times after building the tests
# once, logs each run to target/under-load/run-N.log, and prints per run: its
# status, its time, the tests that failed, and what was left on the host
# (minidock mounts, md/veth links, minidock cgroups and nftables tables, and
# processes running the tests' binaries or a sealed helper). Ends with the
# longest streak of green runs.
# Needs: root, stress-ng (apt-get install stress-ng), what ./test.sh installs.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
if [ "$(id -u)" != 0 ]; then
    echo "needs root (the tests run containers): sudo $0" >&2
    exit 1
fi
command -v stress-ng >/dev/null || { echo "missing stress-ng: apt-get install stress-ng" >&2; exit 1; }
export CARGO_INCREMENTAL=0
logs=target/under-load
mkdir -p "$logs"
# As test.sh: a route for 172.16.0.0/12, so that the default bridge's pool is
# chosen the same way on every machine.
if ! ip route show 172.16.0.0/12 | grep -q .; then
    ip route add blackhole 172.16.0.0/12
    route_added=1
fi
echo "building the tests once…"
cargo test --workspace --locked --exclude minidock-fuzz --no-run >"$logs/build.log" 2>&1 ||
    { echo "the build failed: $logs/build.log" >&2; exit 1; }
stress-ng --cpu 2 >/dev/null 2>&1 &
hog=$!
cleanup() {
    kill "$hog" 2>/dev/null
    wait "$hog" 2>/dev/null
    [ -n "${route_added:-}" ] && ip route del blackhole 172.16.0.0/12 2>/dev/null
}
trap cleanup EXIT
streak=0 best=0
for i in $(seq "$runs"); do
    start=$SECONDS
    cargo test --workspace --locked --no-fail-fast --exclude minidock-fuzz >"$logs/run-$i.log" 2>&1
    status=$?
    failed=$(grep -E '^test .* FAILED$' "$logs/run-$i.log" | sed 's/^test //; s/ \.\.\. FAILED$//' | tr '\n' ' ')
    mounts=$(grep -c 'minidock' /proc/self/mountinfo)
    links=$(ip -o link show | grep -cE ': (md|veth)')
    cgroups=$(find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d -name '*minidock*' 2>/dev/null | wc -l)
    tables=$(nft list tables 2>/dev/null | grep -c minidock)
    # Ours: a test binary of this tree, or a helper started from its
    # sealed copy (/memfd:minidock-helper).
    procs=$(for exe in /proc/[0-9]*/exe; do readlink "$exe" 2>/dev/null; done |
        grep -cE "^$PWD/target/|^/memfd:minidock")
    if [ "$status" = 0 ]; then streak=$((streak + 1)); else streak=0; fi
    [ "$streak" -gt "$best" ] && best=$streak
    printf 'run %d: %s in %d s (load %s); left: %d mounts, %d links, %d cgroups, %d nft tables, %d processes%s\n' \
        "$i" "$([ "$status" = 0 ] && echo green || echo "FAILED ($status)")" $((SECONDS - start)) \
        "$(cut -d' ' -f1 /proc/loadavg)" "$mounts" "$links" "$cgroups" "$tables" "$procs" \
        "${failed:+; failed: $failed}"
done
echo "longest streak of green runs: $best of $runs"
[ "$best" = "$runs" ]
