#!/usr/bin/env bash
# GPU check of ctfgen's CUDA support, on a Linux machine with a CUDA GPU and a CUDA build of PyTorch
# (a pip wheel), in one command of under 8 minutes:
#   1. builds the addon against that PyTorch's libtorch (LIBTORCH = the wheel's torch/ folder; the
#      CUDA and NCCL headers of the nvidia-* wheels or /usr/local/cuda; the wheel's C++ ABI);
#   2. runs the device-tagged tests (test/device/: ops, random draws, float32 and bf16 training,
#      sampling and NCCL on CUDA against the CPU) and the collectives tests;
#   3. times GPT-B training steps and GPT-B decode against PyTorch on the same GPU.
# Node: the `node` on PATH when it is 20 or newer, else Node unpacked from the nodejs .deb that
# `scripts/gpu-check.sh --prepare` put in .gpu/ (ignored by git). --prepare, run in a built checkout
# on a machine with apt (this project's development machine), also compiles dist/ and copies the
# runtime node_modules (no datasets, no dev tools) into .gpu/: carry .gpu/ and dist/ to the GPU
# machine when it has no npm or no network.
#   usage: scripts/gpu-check.sh [--prepare]        PYTHON=<python with CUDA torch> (default python3)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
gpu="$root/.gpu"

if [ "${1:-}" = "--prepare" ]; then
  npx tsc -p tsconfig.json
  rm -rf "$gpu" && mkdir -p "$gpu"
  (cd "$gpu" && apt-get download nodejs)
  cp -r node_modules "$gpu/node_modules"
  (cd "$gpu/node_modules" && rm -rf emoji-datasource-* typescript prettier eslint @eslint @typescript-eslint typescript-eslint @types .cache)
  du -sh "$gpu" dist
  echo "carry .gpu/ and dist/ to the GPU machine, then run scripts/gpu-check.sh there"
  exit 0
fi

mkdir -p "$gpu"
start=$(date +%s)
step() { echo; echo "== $* ($(($(date +%s) - start)) s)"; }
PY=$(command -v "${PYTHON:-python3}")

step "PyTorch with CUDA"
"$PY" - <<'PY'
import torch
assert torch.cuda.is_available(), "this PyTorch sees no CUDA GPU"
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}")
PY
export LIBTORCH=$("$PY" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
export CTFGEN_CXX11_ABI=$("$PY" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
# CUDA runtime and NCCL headers: the nvidia-* wheels PyTorch depends on, else a CUDA toolkit
CTFGEN_CUDA_INCLUDE=$("$PY" - <<'PY'
import glob, os
dirs = []
try:
    import nvidia
    for base in nvidia.__path__:
        dirs += sorted(glob.glob(os.path.join(base, "*", "include")))
except ImportError:
    pass
for d in ("/usr/local/cuda/include", os.environ.get("CUDA_HOME", "") + "/include"):
    if os.path.isfile(os.path.join(d, "cuda_runtime_api.h")):
        dirs.append(d)
print(" ".join(dirs))
PY
)
export CTFGEN_CUDA_INCLUDE
echo "LIBTORCH=$LIBTORCH (C++11 ABI $CTFGEN_CXX11_ABI); CUDA headers from: ${CTFGEN_CUDA_INCLUDE:-none found}"

step "Node"
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
NODE=$(command -v node || true)
NODEDIR=""
if [ -z "$NODE" ] || [ "$(node_major "$NODE")" -lt 20 ]; then
  deb=$(ls "$gpu"/nodejs_*.deb 2>/dev/null | head -1 || true)
  [ -n "$deb" ] || { echo "no Node >= 20 here and no .gpu/nodejs_*.deb: run scripts/gpu-check.sh --prepare on a machine with apt"; exit 1; }
  rm -rf "$gpu/node" && mkdir -p "$gpu/node" && dpkg-deb -x "$deb" "$gpu/node"
  NODE="$gpu/node/usr/bin/node"
fi
# node-gyp needs the headers of the Node it builds for; offline it cannot download them
for d in "$(dirname "$(dirname "$NODE")")"; do [ -f "$d/include/node/node_api.h" ] && NODEDIR=$d; done
export PATH="$(dirname "$NODE"):$PATH"
echo "node $("$NODE" --version) ($NODE)${NODEDIR:+, headers in $NODEDIR/include/node}"
[ -d node_modules ] || ln -s "$gpu/node_modules" node_modules
[ -d dist ] || "$NODE" node_modules/typescript/bin/tsc -p tsconfig.json

step "Build the addon against $LIBTORCH"
"$NODE" node_modules/node-gyp/bin/node-gyp.js rebuild --directory native -j max ${NODEDIR:+--nodedir="$NODEDIR"} > "$gpu/build.log" 2>&1 \
  || { tail -40 "$gpu/build.log"; exit 1; }
"$NODE" -e "const T = require('./native/build/Release/ctfgen_torch.node'); console.log('addon: backends', T.distBackends().join(', '), '| CUDA devices', T.cudaDeviceCount())"

step "Device-tagged tests and collectives"
export CTFGEN_PYTHON=$PY
timeout 240 "$NODE" --test --test-concurrency=1 dist/test/device/ dist/test/dist/collectives.test.js

step "GPT-B training steps: ours against PyTorch on cuda"
timeout 150 "$NODE" dist/bench/train-step.js --gpt-b --device cuda --no-dropout --steps 10

step "GPT-B decode: ours against PyTorch on cuda"
timeout 150 "$NODE" dist/bench/gpt-decode.js --size B --device cuda

step "done"
