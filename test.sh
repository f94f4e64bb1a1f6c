#!/usr/bin/env bash
# minidock's test command: installs every system package the tests need, then
# runs formatting, lints, every test of the workspace (as root: containers are
# real), the workbook's guard check of every exercise, and the book build.
#
#   sudo ./test.sh            everything
#   sudo ./test.sh --quick    skip `cargo workbook verify` (the slow part)
set -euo pipefail
cd "$(dirname "$0")"

quick=0
[ "${1:-}" = "--quick" ] && quick=1

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
    echo "needs root: the tests create namespaces, mounts and cgroups. Run: sudo $0" >&2
    exit 1
fi

# Cargo installed by rustup lives in the invoking user's home; keep it on PATH under sudo.
for d in "${CARGO_HOME:-$HOME/.cargo}/bin" /root/.cargo/bin; do
    [ -d "$d" ] && PATH="$d:$PATH"
done
command -v cargo >/dev/null || { echo "cargo is missing: install Rust with https://rustup.rs, then rerun" >&2; exit 1; }

step "system packages"
# busybox-static: the test images' userland; docker-registry: the real registry
# server; skopeo, umoci, runc, crun: independent oracles; hyperfine: benchmarks;
# git: the workbook; jq, curl: the bench scripts; nftables, iproute2: the
# network tests' oracles (`nft list`, `ip`; the engine itself uses netlink);
# docker-compose: a real multi-service client; qemu-system-x86, linux-image-amd64,
# binutils: the cgroup v2 VM (qemu, the kernel it boots, objcopy to strip the test
# binaries); openssl: the certificates of the daemon's TLS tests; xxd: the
# chapter 5 Try-its (a frame of the attach stream, byte by byte); chromium,
# chromium-driver: the dashboard's real-browser test (headless, through
# WebDriver), which also renews the book's screenshots of it. Installed only
# when missing, so a warm machine stays offline.
packages=(busybox-static docker-registry skopeo umoci runc crun hyperfine git ca-certificates jq curl procps
          nftables iproute2 docker-compose qemu-system-x86 linux-image-amd64 binutils openssl xxd
          man-db chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || {
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}"
    }
else
    echo "all present: ${packages[*]}"
fi

# The real docker CLI is a client of minidockd in the tests; Debian's docker.io
# package carries it (its engine is not started).
command -v docker >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq docker.io; }

step "docker-py (a second real client of the daemon)"
export MINIDOCK_DOCKER_PY_VENV="${MINIDOCK_DOCKER_PY_VENV:-/tmp/minidock-venv}"
if ! "$MINIDOCK_DOCKER_PY_VENV/bin/python" -c 'import docker' 2>/dev/null; then
    python3 -m venv "$MINIDOCK_DOCKER_PY_VENV"
    "$MINIDOCK_DOCKER_PY_VENV/bin/pip" install -q docker
fi
"$MINIDOCK_DOCKER_PY_VENV/bin/python" -c 'import docker; print("docker-py", docker.__version__)'

step "mdbook"
if ! command -v mdbook >/dev/null; then
    # A separate target dir so the workspace build is not invalidated.
    CARGO_TARGET_DIR=/tmp/minidock-mdbook-target cargo install mdbook --locked --version '^0.4' --quiet
fi
mdbook --version

step "network guard"
# Container subnets live in 172.16.0.0/12. While the tests run, a blackhole
# route holds that range: a packet to a container subnet whose bridge is
# missing is dropped here instead of following the default route off the
# machine (a bridge's own, longer route still wins).
if ! ip route show 172.16.0.0/12 | grep -q .; then
    ip route add blackhole 172.16.0.0/12
    trap 'ip route del blackhole 172.16.0.0/12 2>/dev/null || true' EXIT
    echo "blackhole route for 172.16.0.0/12 held until the end of the run"
else
    echo "a route for 172.16.0.0/12 exists already: $(ip route show 172.16.0.0/12)"
fi

# A one-shot full build gains nothing from incremental caches, which are as
# large again as the build itself.
export CARGO_INCREMENTAL=0
# The browser test renews the book's dashboard screenshots (final/tests/desktop_browser.rs).
export MINIDOCK_SCREENSHOTS=book

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked --no-fail-fast --exclude minidock-fuzz

step "fuzz: every target's regressions and seeds, then ${MINIDOCK_FUZZ_SECONDS:-8} s of mutants each (fuzz/README.md)"
fuzz_start=$SECONDS
cargo test --locked -p minidock-fuzz -- --nocapture
echo "fuzz stage: $((SECONDS - fuzz_start)) s"

step "cgroup v2: the container tests again, in a VM with a v2-only kernel (tests/vm/plan.txt)"
# This host is cgroup v1; most users' hosts are v2. The VM boots Debian's kernel
# with cgroup_no_v1=all and runs chapter 03's tests there. It says when it falls
# back from KVM to TCG (emulation), and fails, naming why, when the VM cannot boot.
vm_start=$SECONDS
cargo run -q --locked -p minidock-testkit --bin minidock-vm
echo "cgroup v2 VM stage: $((SECONDS - vm_start)) s"

if [ "$quick" = 0 ]; then
    step "cargo workbook verify (every exercise is guarded by a test)"
    cargo workbook verify
fi

step "book"
# book.toml runs the workbook as a preprocessor: each exercise shows its todo!(), the
# reference sits behind a reveal; check-book proves no answer is readable outside one.
mdbook build book
book/check-links.sh
# How much of each chapter's lesson the book shows (the appendix itself is checked by `cargo test`).
cargo run -q --locked -p minidock-house -- coverage
cargo workbook check-book

step "the book's Try-its (every console,runnable block, typed as a reader would)"
# One root shell session in the book's order, a scratch tmpfs on /tmp, output compared
# with the book's ([..] and ... stand for what differs between machines).
tryits_start=$SECONDS
cargo workbook try-its
echo "try-its stage: $((SECONDS - tryits_start)) s"

step "all green"
