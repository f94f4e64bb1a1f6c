#!/usr/bin/env bash
# Layer unpack benchmark (chapter 02): a ~100 MB (uncompressed), 5-layer
# gzip image, unpacked by minidock (decompress, hash and check every
# diff-id, create files safely, one syncfs per layer) and by `tar -xzf` of
# the same layer files, in the same run, on the same machine.
#
#   bench/unpack.sh            # 5 runs each
#   RUNS=9 bench/unpack.sh
#
# Needs root (layers keep their owners; whiteouts are device nodes),
# python3 (writes the image: not minidock's code) and hyperfine.
# Target: minidock's median ≤ 1.2× tar's.
#
# minidock unpacks an image's layers in parallel (one thread per CPU), as
# it does when it registers an image; GNU tar unpacks one layer at a time
# with gzip in a second process. Both are shown against `tar -xzf` with a
# final `sync -f` too, since minidock makes its layers durable and tar
# does not.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
LAYERS=${LAYERS:-5}
MB_PER_LAYER=${MB_PER_LAYER:-20}

for tool in python3 hyperfine tar; do
    command -v "$tool" >/dev/null || { echo "bench/unpack.sh: $tool is missing" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "bench/unpack.sh: run as root" >&2; exit 1; }

work=$(mktemp -d /tmp/minidock-bench-unpack.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "building the example in release mode…"
cargo build --release -q -p minidock-images --example unpack
unpack_bin=$PWD/target/release/examples/unpack

echo "writing a ${LAYERS}-layer image of ~$((LAYERS * MB_PER_LAYER)) MB…"
python3 - "$work/layout" "$LAYERS" "$MB_PER_LAYER" <<'PY'
import gzip, hashlib, io, json, os, random, sys, tarfile

out, layers, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(42)
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
         for _ in range(4000)]
# A pool of text-like bytes: compresses about 2.5×, like real files do.
pool = " ".join(rng.choice(words) for _ in range(1_600_000)).encode()

def data(n):
    start = rng.randrange(0, len(pool) - n)
    return pool[start:start + n]

os.makedirs(f"{out}/blobs/sha256")
def put(b):
    d = hashlib.sha256(b).hexdigest()
    with open(f"{out}/blobs/sha256/{d}", "wb") as f:
        f.write(b)
    return d

descs, diff_ids = [], []
for layer in range(layers):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        def add(name, payload=None, mode=0o644, kind=tarfile.REGTYPE):
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = kind, mode, 1_700_000_000
            if payload is not None:
                info.size = len(payload)
                t.addfile(info, io.BytesIO(payload))
            else:
                t.addfile(info)
        budget = mb << 20
        add(f"l{layer}", mode=0o755, kind=tarfile.DIRTYPE)
        for big in range(2):                     # a few big files
            add(f"l{layer}/big{big}", data(3 << 20)); budget -= 3 << 20
        n = 0
        while budget > 0:                         # many small and middling ones
            if n % 40 == 0:
                add(f"l{layer}/d{n // 40}", mode=0o755, kind=tarfile.DIRTYPE)
            size = rng.choice([512, 2048, 4096, 8192, 16384, 65536, 262144])
            add(f"l{layer}/d{n // 40}/f{n}", data(size), mode=rng.choice([0o644, 0o755, 0o600]))
            budget -= size; n += 1
    plain = buf.getvalue()
    diff_ids.append("sha256:" + hashlib.sha256(plain).hexdigest())
    blob = gzip.compress(plain, compresslevel=6, mtime=0)
    d = put(blob)
    with open(f"{out}/../layer{layer}.tar.gz", "wb") as f:
        f.write(blob)
    descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                  "digest": "sha256:" + d, "size": len(blob)})

arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
config = json.dumps({"architecture": arch, "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": []}).encode()
cd = put(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": "sha256:" + cd, "size": len(config)},
                       "layers": descs}).encode()
md = put(manifest)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
           "digest": "sha256:" + md, "size": len(manifest)}]}, open(f"{out}/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(f"{out}/oci-layout", "w"))
PY
du -sh "$work"/layer*.tar.gz | sed 's/^/  /'

store=$work/store
manifest=$("$unpack_bin" load "$store" "$work/layout")
layer_files=$(ls "$work"/layer*.tar.gz)

tar_cmd="rm -rf $work/tar && mkdir $work/tar"
for f in $layer_files; do tar_cmd+=" && mkdir -p $work/tar/\$(basename $f) && tar -xzf $f -C $work/tar/\$(basename $f)"; done

echo "timing ($RUNS runs each)…"
hyperfine --style basic --runs "$RUNS" --warmup 1 \
    --export-json "$work/times.json" \
    --prepare "rm -rf $store/layers/* $work/tar; sync" \
    -n minidock "$unpack_bin register $store $manifest" \
    -n "tar -xzf" "bash -c '$tar_cmd'" \
    -n "tar -xzf + sync" "bash -c '$tar_cmd && sync -f $work/tar'" >/dev/null

python3 - "$work/times.json" <<'PY'
import json, statistics, sys
r = {x["command"]: statistics.median(x["times"]) for x in json.load(open(sys.argv[1]))["results"]}
m, t, ts = r["minidock"], r["tar -xzf"], r["tar -xzf + sync"]
print(f"median minidock unpack   {m:7.3f} s")
print(f"median tar -xzf          {t:7.3f} s")
print(f"median tar -xzf + sync   {ts:7.3f} s")
print(f"ratio minidock / tar -xzf          {m / t:5.2f}x  (target <= 1.2x)")
print(f"ratio minidock / tar -xzf + sync   {m / ts:5.2f}x")
PY
