#!/usr/bin/env bash
# Podman on this machine with vlmbench's images in its own store, for
# `vlmbench run --executor slurm --container-runtime podman` and its tests:
# installs Debian's podman (and catatonit, its --init) when missing, and
# copies each image named from the Docker Engine into Podman (no registry
# needed) unless Podman already holds the same image id.
# Where the machine lets no process raise its resource limits (no
# CAP_SYS_RESOURCE, as in some VMs and containers), Podman's default
# limits cannot be set; they are lowered in /etc/containers/containers.conf.
#   scripts/podman-setup.sh vlmbench/cpu:0.1.0 [IMAGE...]
set -euo pipefail
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

if ! command -v podman >/dev/null || [ ! -x /usr/libexec/podman/catatonit ]; then
    echo "installing podman"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq podman catatonit >/dev/null
fi

for image in "$@"; do
    want=$(docker image inspect --format '{{.Id}}' "$image")
    have=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
    if [ "sha256:${have#sha256:}" != "$want" ]; then
        echo "copying $image from the Docker Engine into Podman"
        docker save "$image" | podman load -q >/dev/null
    fi
done

# Podman asks for nofile and nproc limits of about a million by default.
probe=${1:-}
if [ -n "$probe" ] && ! podman run --rm --pull never --network none --entrypoint true "$probe" 2>/dev/null; then
    if podman run --rm --pull never --network none --entrypoint true --ulimit nofile=16384:16384 \
            --ulimit nproc=4096:4096 "$probe" 2>/dev/null; then
        echo "this machine cannot raise resource limits: Podman's defaults lowered in containers.conf"
        $sudo mkdir -p /etc/containers
        printf '[containers]\ndefault_ulimits = ["nofile=16384:16384", "nproc=4096:4096"]\n' |
            $sudo tee /etc/containers/containers.conf >/dev/null
    fi
    podman run --rm --pull never --network none --entrypoint true "$probe"
fi
