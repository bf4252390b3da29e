#!/usr/bin/env bash
# The base image the project's images build FROM, made without any registry
# (none can be reached from CI): a minimal Debian bookworm with Python,
# made by debootstrap from the Debian mirror and loaded by `docker import`.
#   scripts/make-base-image.sh [NAME]      (default vlmbench/base:bookworm)
# The host's CA bundle (the file PIP_CERT names, else the system one) goes
# into the image so pip and apt inside containers trust the same proxies as
# the host. Skips everything when NAME already exists.
set -euo pipefail

name=${1:-${VLMBENCH_BASE_IMAGE:-vlmbench/base:bookworm}}
suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ca_bundle=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

if docker image inspect "$name" >/dev/null 2>&1; then
    exit 0
fi
if ! command -v debootstrap >/dev/null; then
    echo "installing debootstrap"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

rootfs=$(mktemp -d "${TMPDIR:-/tmp}/vlmbench-rootfs.XXXXXX")
trap '$sudo rm -rf "$rootfs"' EXIT
echo "debootstrap $suite into $rootfs (a few minutes the first time)"
$sudo debootstrap --variant=minbase --include=python3,python3-venv,python3-pip \
    "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
    echo "debootstrap failed; its log ends with:" >&2
    tail -n 20 "$rootfs.log" >&2
    exit 1
}
rm -f "$rootfs.log"
if [ -f "$ca_bundle" ]; then
    $sudo mkdir -p "$rootfs/etc/ssl/certs"
    $sudo cp "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
fi
# Caches and logs only make the image bigger.
$sudo rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*
echo "importing $name"
$sudo tar -C "$rootfs" -c . | docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["/bin/bash"]' \
    - "$name" >/dev/null
echo "made $name"
