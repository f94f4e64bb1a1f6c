# Shared by the bench scripts: a daemon of the bench's own that leaves
# nothing on the host.
#
# A minidockd keeps its default network's bridge and nftables table, and
# its cgroup parent, across restarts (as Docker keeps docker0): removing
# its directory does not remove them. A bench therefore gives its daemon a
# cgroup parent named after the bench's directory and a subnet of its own,
# and at the end removes what the daemon's tag marks (every link's alias
# and table's comment is `minidock ROOT/networks`) and the cgroup parent.
#
#   . bench/lib.sh
#   dir=$(mktemp -d /tmp/minidock-bench.XXXXXX)
#   minidockd $(bench_daemon_flags "$dir") --root "$dir/root" … &
#   …
#   bench_cleanup_host "$dir"      (in the EXIT trap, after the daemon stopped)

# The flags of a bench daemon on DIR: its own cgroup parent; the default
# network on $SUBNET (a /24 of 172.16.0.0/12 by default, not Docker's
# 172.17.0.0/16, which a Docker engine on the same host may hold).
bench_daemon_flags() {
    printf -- '--cgroup-parent %s --bridge-subnet %s --ip-forward=false --dns-forward=false' \
        "$(basename "$1")" "${SUBNET:-172.31.240.0/24}"
}

# A tmpfs at DIR/state for what a real install keeps in /run, a tmpfs: the
# daemon's run directory (sockets, network namespaces) and crun's and runc's
# state. Only the engine's root (images, containers) is on the disk.
# Unmounted by bench_cleanup_host.
bench_state_tmpfs() { # DIR
    mkdir -p "$1/state"
    mount -t tmpfs -o mode=0700 minidock-bench "$1/state"
}

# The directory for the engine's root: DIR itself, on the disk DIR is on, or
# with ROOT_FS=ext4 a fresh ext4 (with the journal mkfs.ext4 gives it, as on
# a usual install) in an image loop-mounted at DIR/disk — for a host whose
# own disk behaves unlike a usual one (see bench_disk_note). Unmounted by
# bench_cleanup_host.
bench_disk() { # DIR
    if [ "${ROOT_FS:-}" = ext4 ]; then
        truncate -s 8G "$1/disk.img"
        mkfs.ext4 -q -F "$1/disk.img"
        mkdir -p "$1/disk"
        mount -o loop "$1/disk.img" "$1/disk"
        echo "$1/disk"
    else
        echo "$1"
    fi
}

# One line on the disk under DIR, for the reader of the figures. An ext4
# without a journal (some VM images) will not reuse an inode freed in the
# last 60 s (360 s while its table block is dirty), and scans past every such
# inode of the block group for each file it makes: right after a busy minute
# of file churn (a test run) every file the engine makes costs far more.
bench_disk_note() { # DIR
    local source fstype dev journal
    read -r source fstype < <(findmnt -no SOURCE,FSTYPE -T "$1")
    dev=$(basename "$source")
    journal=
    if [ "$fstype" = ext4 ] && [ -r "/sys/fs/ext4/$dev/journal_task" ]; then
        [ "$(cat "/sys/fs/ext4/$dev/journal_task")" = "<none>" ] && journal=", no journal"
    fi
    echo "== the engine's root is on $fstype ($source$journal)"
    if [ -n "$journal" ]; then
        echo "   ext4 without a journal: every file the engine makes costs more the more files were"
        echo "   deleted in the last minutes (a test run, this bench's own runs). ROOT_FS=ext4 measures"
        echo "   on a journaled ext4, as a usual install has."
    fi
}

# Removes the links and nftables tables tagged with DIR, and the (empty)
# cgroup parent named after DIR, in every hierarchy.
# Runs under `set -euo pipefail` (in an EXIT trap): a search that finds
# nothing must not end it early.
bench_cleanup_host() {
    local dir=$1 name link table links tables
    name=$(basename "$dir")
    # A veth goes with its container's namespace, a moment after.
    sleep 0.5
    links=$(ip -o link show | { grep -F "alias minidock $dir/" || true; } |
        awk -F': ' '{print $2}' | cut -d@ -f1)
    for link in $links; do
        ip link del "$link" 2>/dev/null || true
    done
    tables=$(nft list tables ip 2>/dev/null | awk '$3 ~ /^minidock-/ {print $3}' || true)
    for table in $tables; do
        if grep -qF "comment \"minidock $dir/" <<<"$(nft list table ip "$table" 2>/dev/null)"; then
            nft delete table ip "$table" 2>/dev/null || true
        fi
    done
    for group in /sys/fs/cgroup/"$name" /sys/fs/cgroup/*/"$name"; do
        [ -d "$group" ] && rmdir "$group" 2>/dev/null || true
    done
    for mounted in "$dir/state" "$dir/disk"; do
        if mountpoint -q "$mounted"; then
            umount -R "$mounted" || true
        fi
    done
}

# The machine a bench runs on is often busy (builds, tests beside it), and
# its load changes over a minute. So a bench measures in ROUNDS: each round
# runs every command a few times, the order turning round by round, and the
# figures pool every run of every round. A drift of the load then weighs on
# every command alike instead of on whichever ran last.

# Pooled figures of the command NAME over the rounds' hyperfine exports
# (FILE…), in ms: "median p25 p75 runs".
bench_pooled() { # NAME FILE...
    local name=$1
    shift
    jq -s -r --arg name "$name" '
        [.[].results[] | select(.command == $name) | .times[]] | sort | map(. * 1000) as $t
        | ($t | length) as $n
        | def at(q): $t[((($n - 1) * q) | floor)] + ($t[((($n - 1) * q) | ceil)] - $t[((($n - 1) * q) | floor)]) * ((($n - 1) * q) - ((($n - 1) * q) | floor));
          [at(0.5), at(0.25), at(0.75), $n] | @tsv' "$@"
}

# Each round's median of the command NAME (FILE… in round order), in ms,
# one per line.
bench_round_medians() { # NAME FILE...
    local name=$1
    shift
    jq -r --arg name "$name" '.results[] | select(.command == $name) | .median * 1000' "$@"
}

# "min–max" of the per-round ratios A/B (two lists of round medians).
bench_ratio_range() { # "A1 A2 …" "B1 B2 …"
    awk -v a="$1" -v b="$2" 'BEGIN {
        n = split(a, x, " "); split(b, y, " ")
        for (i = 1; i <= n; i++) { r = x[i] / y[i]; if (i == 1 || r < lo) lo = r; if (i == 1 || r > hi) hi = r }
        printf "%.2f–%.2f", lo, hi }'
}
