#!/usr/bin/env bash
# Packs what `gpu-bench.sh` needs on a GPU machine that has no Node and no network into one folder,
# device-pack/ (ignored by git; carry it to the machine): this Node binary, xz-compressed; the
# production node_modules for linux-x64 without source maps and other platforms' binaries; the
# Vulkan loader of this machine; caltech10 from ../shared for train-eval. Sources travel with the
# checkout itself. Run from the repository root: bash scripts/device/pack.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=device-pack
rm -rf "$out" && mkdir -p "$out"
xz -T0 -6 -c "$(command -v node)" > "$out/node.xz"
# production dependencies only, as npm resolves them
npm ls --omit=dev --parseable --all 2>/dev/null | sed "s|^$PWD/||" | grep '^node_modules/' | sort -u > "$out/modules.txt"
tar -c --exclude='*.map' --exclude='webgpu/dist/darwin-*' --exclude='webgpu/dist/win32-*' --exclude='webgpu/dist/linux-arm64' \
  --exclude='better-sqlite3/deps' --exclude='better-sqlite3/src' --exclude='*.ts.map' --no-recursion -T <(
    while read -r m; do find "$m" -path "$m/node_modules" -prune -o -print; done < "$out/modules.txt"
  ) | xz -T0 -6 > "$out/node_modules.tar.xz"
for lib in /usr/lib/x86_64-linux-gnu/libvulkan.so.1; do [ -e "$lib" ] && cp -L "$lib" "$out/"; done
[ -d ../shared/data/caltech10 ] && tar -C ../shared/data -cJf "$out/caltech10.tar.xz" caltech10
du -sh "$out"/*
