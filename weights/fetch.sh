#!/usr/bin/env bash
# fetch.sh — downloads pretrained ImageNet VGG16 weights into weights/ and verifies them.
# Needs internet and curl or wget; never run by CI or the tests. See weights/README.md.
#   weights/fetch.sh            torchvision vgg16-397923af.pth (553,433,881 bytes, SHA-256 checked)
#   weights/fetch.sh timm       timm/vgg16.tv_in1k model.safetensors (SHA-256 checked)
set -euo pipefail
cd "$(dirname "$0")"

case "${1:-vgg16}" in
  vgg16)
    file=vgg16-397923af.pth
    url=https://download.pytorch.org/models/vgg16-397923af.pth
    size=553433881
    sha=397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0 ;;
  timm)
    file=vgg16.tv_in1k.safetensors
    url=https://huggingface.co/timm/vgg16.tv_in1k/resolve/main/model.safetensors
    size=""   # not recorded; the SHA-256 below comes from a third-party table
    sha=57b026918159a6bf9faf8405c3a551903768e7138989d9c6224a14227203fad8 ;;
  *) echo "usage: $0 [vgg16|timm]" >&2; exit 2 ;;
esac

verify() {  # verify FILE: size (when known) and SHA-256
  local f=$1 got
  if [[ -n "$size" ]]; then
    got=$(stat -c %s "$f")
    if [[ "$got" != "$size" ]]; then
      echo "$f: $got bytes, expected $size" >&2; return 1
    fi
  fi
  got=$(sha256sum "$f" | cut -d' ' -f1)
  if [[ "$got" != "$sha" ]]; then
    echo "$f: SHA-256 $got, expected $sha" >&2; return 1
  fi
}

if [[ -f "$file" ]] && verify "$file"; then
  echo "weights/$file already present and verified"; exit 0
fi

part="${file%.*}.partial.${file##*.}"   # keeps the .pth/.safetensors suffix: git-ignored
trap 'rm -f "$part"' EXIT
echo "downloading $url"
if command -v curl >/dev/null; then
  curl -fL --retry 3 -o "$part" "$url"
elif command -v wget >/dev/null; then
  wget -O "$part" "$url"
else
  echo "neither curl nor wget is installed" >&2; exit 1
fi
verify "$part" || { echo "download did not verify; nothing kept" >&2; exit 1; }
mv "$part" "$file"
trap - EXIT
echo "weights/$file: verified (SHA-256 $sha)"
