#!/usr/bin/env bash
# Downloads Debian's busybox-static for arm64 and amd64 into
# testsuite/busybox/bin/<arch>/busybox (git-ignored) for cli/tests/busybox.rs.
# Idempotent: an architecture already present is skipped. Needs root (or
# sudo) for `dpkg --add-architecture` and `apt-get update`, and the network.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
archs=()
for arch in arm64 amd64; do
    [ -x "$here/bin/$arch/busybox" ] || archs+=("$arch")
done
[ ${#archs[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! dpkg --print-foreign-architectures | grep -qx arm64 \
   && [ "$(dpkg --print-architecture)" != arm64 ]; then
    $SUDO dpkg --add-architecture arm64
fi
# `apt-get download` of one package; on failure the package lists may lack
# the architecture: update them once and retry.
download() {
    apt-get download -q "busybox-static:$1" >/dev/null 2>&1 && return
    $SUDO apt-get update -qq
    apt-get download -q "busybox-static:$1" >/dev/null
}
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
for arch in "${archs[@]}"; do
    echo "== fetching busybox-static:$arch"
    download "$arch"
    deb="$(ls busybox-static_*_"$arch".deb)"
    dpkg-deb -x "$deb" "x-$arch"
    mkdir -p "$here/bin/$arch"
    install -m 755 "x-$arch/bin/busybox" "$here/bin/$arch/busybox"
done
