#!/usr/bin/env bash
# pack-offline-deps.sh — run on a connected Debian machine: downloads (apt-get download, no
# install, no root) the .deb files the cuda build needs that an air-gapped GPU host lacks, into
# the git-ignored .offline/, with a manifest. scripts/gpu-check.sh unpacks them there.
# What travels, and why (headers only wherever the package allows):
#   doctest-dev           tests (header + CMake config, doctest_discover_tests)
#   nlohmann-json3-dev    the library (weights/config JSON; header-only)
#   libstb-dev            stb_image/stb_image_write headers; compiled in data/stb_impl.cpp,
#                         libstb itself is NOT linked, so libstb0 stays behind
#   libbenchmark-dev      fcnlab-bench (headers, CMake config, libbenchmark_main.a)
#   libbenchmark1debian   libbenchmark.so itself (the -dev package only holds the symlink)
# Not needed: libcli11-dev (no target includes CLI/CLI.hpp). Usage: scripts/pack-offline-deps.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${1:-.offline}
PKGS=(doctest-dev nlohmann-json3-dev libstb-dev libbenchmark-dev libbenchmark1debian)
LIMIT_BYTES=$((20 * 1024 * 1024))

command -v apt-get >/dev/null || { echo "pack-offline-deps: needs apt-get (a Debian/Ubuntu machine)" >&2; exit 1; }
mkdir -p "$DEST"
rm -f "$DEST"/*.deb
( cd "$DEST" && apt-get download "${PKGS[@]}" )

total=$(du -cb "$DEST"/*.deb | tail -1 | cut -f1)
{
  echo "# fcnlab offline build dependencies"
  echo "# made $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release && echo "$PRETTY_NAME") $(dpkg --print-architecture)"
  echo "# unpacked by scripts/gpu-check.sh with dpkg -x into $DEST/root"
  echo "# file	package	version	bytes	sha256"
  for f in "$DEST"/*.deb; do
    printf '%s\t%s\t%s\t%s\t%s\n' "$(basename "$f")" "$(dpkg-deb -f "$f" Package)" \
      "$(dpkg-deb -f "$f" Version)" "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -d' ' -f1)"
  done
  echo "# total bytes: $total"
} > "$DEST/MANIFEST.tsv"
cat "$DEST/MANIFEST.tsv"
if (( total > LIMIT_BYTES )); then
  echo "pack-offline-deps: $total bytes is over the 20 MB budget" >&2
  exit 1
fi
echo "pack-offline-deps: $(ls "$DEST"/*.deb | wc -l) packages, $total bytes in $DEST"
