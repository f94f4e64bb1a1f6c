#!/usr/bin/env bash
# Pull benchmark (chapter 04): a ~100 MB, 5-layer image from a local
# distribution registry into an empty store — download, verify, unpack —
# timed against `skopeo copy docker://… oci:DIR` + `umoci unpack` of the
# same image from the same registry, in the same run, on the same machine.
#
#   bench/pull.sh            # 5 runs each
#   RUNS=9 bench/pull.sh
#
# Needs root (both unpackers preserve ownership), docker-registry, skopeo,
# umoci. Target: minidock's median ≤ 0.7× the other's.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
LAYERS=5
MB_PER_LAYER=${MB_PER_LAYER:-20}

for tool in docker-registry skopeo umoci jq curl; do
    command -v "$tool" >/dev/null || { echo "bench/pull.sh: $tool is missing (apt-get install $tool)" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "bench/pull.sh: run as root" >&2; exit 1; }

work=$(mktemp -d /tmp/minidock-bench-pull.XXXXXX)
reg_pid=""
cleanup() {
    if [[ -n "$reg_pid" ]]; then
        kill "$reg_pid" 2>/dev/null || true
        wait "$reg_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "building the example in release mode…"
cargo build --release -q -p minidock-registry --example pull
pull_bin=target/release/examples/pull

# --- the registry --------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
addr="127.0.0.1:$port"
cat >"$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: $addr
YAML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do
    curl -sf "http://$addr/v2/" >/dev/null 2>&1 && break
    sleep 0.1
done

# --- the image: 5 gzip layers of mixed content, an OCI layout written here
# with tar, gzip, sha256sum and jq (not with minidock) ------------------------
echo "making a ${LAYERS}-layer image of ~$((LAYERS * MB_PER_LAYER)) MB…"
src="$work/src"
mkdir -p "$src/blobs/sha256"
case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) arch=$(uname -m) ;;
esac
put_blob() { # FILE → prints its digest, moves it into the layout
    local hex
    hex=$(sha256sum "$1" | cut -d' ' -f1)
    mv "$1" "$src/blobs/sha256/$hex"
    echo "sha256:$hex"
}
diff_ids=()
layer_descs=()
for i in $(seq 1 "$LAYERS"); do
    d="$work/content$i"
    mkdir -p "$d/layer$i/bin" "$d/layer$i/share/doc"
    # Half incompressible (like binaries and compressed assets), half text.
    for f in $(seq 1 20); do
        head -c $((MB_PER_LAYER * 1024 * 1024 / 40)) /dev/urandom >"$d/layer$i/bin/file$f"
        head -c $((MB_PER_LAYER * 1024 * 1024 / 53)) /dev/urandom | base64 >"$d/layer$i/share/doc/file$f.txt"
    done
    tar -C "$d" --numeric-owner -cf "$work/layer.tar" "layer$i"
    diff_ids+=("\"sha256:$(sha256sum "$work/layer.tar" | cut -d' ' -f1)\"")
    gzip -n -6 "$work/layer.tar"
    size=$(stat -c %s "$work/layer.tar.gz")
    digest=$(put_blob "$work/layer.tar.gz")
    layer_descs+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$digest\",\"size\":$size}")
    rm -rf "$d"
done
jq -cn --arg arch "$arch" --argjson diff_ids "[$(IFS=,; echo "${diff_ids[*]}")]" \
    '{architecture: $arch, os: "linux", config: {Cmd: ["sh"]}, rootfs: {type: "layers", diff_ids: $diff_ids}}' \
    >"$work/config.json"
config_size=$(stat -c %s "$work/config.json")
config_digest=$(put_blob "$work/config.json")
jq -cn --arg cd "$config_digest" --argjson cs "$config_size" --argjson layers "[$(IFS=,; echo "${layer_descs[*]}")]" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
      layers: $layers}' >"$work/manifest.json"
manifest_size=$(stat -c %s "$work/manifest.json")
manifest_digest=$(put_blob "$work/manifest.json")
jq -cn --arg md "$manifest_digest" --argjson ms "$manifest_size" \
    '{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: $md, size: $ms, annotations: {"org.opencontainers.image.ref.name": "bench"}}]}' \
    >"$src/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$src/oci-layout"
skopeo copy -q --dest-tls-verify=false "oci:$work/src:bench" "docker://$addr/bench/img:1"
size=$(du -sm "$work/registry" | cut -f1)
echo "registry holds ${size} MB"

# --- timing ----------------------------------------------------------------
now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

mine=()
theirs=()
for run in $(seq 1 "$RUNS"); do
    rm -rf "$work/store" "$work/oci" "$work/bundle"
    sync
    t0=$(now)
    "$pull_bin" --quiet --root "$work/store" "$addr/bench/img:1"
    t1=$(now)
    skopeo copy -q --src-tls-verify=false "docker://$addr/bench/img:1" "oci:$work/oci:img"
    umoci unpack --image "$work/oci:img" "$work/bundle" >/dev/null
    t2=$(now)
    mine+=($(( (t1 - t0) / 1000000 )))
    theirs+=($(( (t2 - t1) / 1000000 )))
    echo "run $run: minidock ${mine[-1]} ms, skopeo+umoci ${theirs[-1]} ms"
done

m=$(printf '%s\n' "${mine[@]}" | median)
t=$(printf '%s\n' "${theirs[@]}" | median)
ratio=$(awk -v m="$m" -v t="$t" 'BEGIN {printf "%.2f", m / t}')
echo
echo "median minidock pull (download + verify + unpack): ${m} ms"
echo "median skopeo copy + umoci unpack:                 ${t} ms"
echo "ratio: ${ratio}x (target <= 0.7x)"
