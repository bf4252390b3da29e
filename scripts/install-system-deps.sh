#!/usr/bin/env bash
# System packages vlmbench's demo uses: Tesseract with English and Russian
# language data (the OCR baseline); with --tests also what only the tests use:
# Chromium, in which a test opens the HTML report headless.
# Idempotent: installs only what is missing.
set -euo pipefail

packages=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-rus)
[ "${1:-}" = "--tests" ] && packages+=(chromium)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
    echo "install these system packages with your package manager: ${missing[*]}" >&2
    exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
