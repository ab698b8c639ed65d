#!/usr/bin/env bash
# On a GPU machine with no Node and no network, from a checkout that carries device-pack/ (made here by
# scripts/device/pack.sh): unpacks Node and node_modules, finds a Vulkan driver (writes an ICD file for
# NVIDIA's when the image has the library but no ICD file), then runs the GPU benchmark (PyTorch on
# the same GPU where torch.cuda.is_available()) and a 5-minute train-eval of the default GPU preset on
# caltech10. Results land in $OUT (or ./device-results). Usage: bash scripts/device/gpu-bench.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
pack=device-pack
res="${OUT:-device-results}"
mkdir -p "$res" /tmp/dino-node
xz -dc "$pack/node.xz" > /tmp/dino-node/node && chmod +x /tmp/dino-node/node
export PATH="/tmp/dino-node:$PATH"
[ -d node_modules ] || xz -dc "$pack/node_modules.tar.xz" | tar -x
# the Vulkan loader: the system's, else the carried one
ldconfig -p 2>/dev/null | grep -q libvulkan.so.1 || export LD_LIBRARY_PATH="$PWD/$pack${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# NVIDIA's Vulkan driver lives in libGLX_nvidia; some images lack the ICD file that names it
if ! ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json >/dev/null 2>&1; then
  if ldconfig -p 2>/dev/null | grep -q libGLX_nvidia.so.0; then
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"libGLX_nvidia.so.0","api_version":"1.3.0"}}\n' > /tmp/nvidia_icd.json
    export VK_ICD_FILENAMES=/tmp/nvidia_icd.json
  fi
fi
{ nvidia-smi || true; node --version; } > "$res/machine.txt" 2>&1
python3 -c 'import torch; print(torch.__version__, torch.cuda.is_available())' >> "$res/machine.txt" 2>&1 || true
export DINO_BENCH_PYTHON="$(command -v python3 || echo /usr/bin/python3)"
node bin/dino-explorer.js status --json --catalog /tmp/dino-status > "$res/status.json" 2> "$res/status.err"
timeout 1500 node bin/dino-explorer.js bench gpu --backend webgpu --out "$res/bench-gpu.json" > "$res/bench-gpu.txt" 2>&1
if [ -f "$pack/caltech10.tar.xz" ]; then
  mkdir -p /tmp/dino-data && tar -C /tmp/dino-data -xJf "$pack/caltech10.tar.xz"
  DINO_BACKEND=webgpu timeout 1500 node bin/dino-explorer.js train-eval --data /tmp/dino-data/caltech10 --minutes 5 --json \
    > "$res/train-eval.json" 2> "$res/train-eval.err"
fi
ls -la "$res"
