#!/usr/bin/env bash
# A Docker Engine that answers, on a fresh Debian/Ubuntu machine as on a
# developer's: installs docker.io with apt when dockerd is missing, starts
# dockerd in the background when no engine answers, waits for its socket.
# Idempotent: an engine that already answers is left alone.
#   scripts/docker-engine.sh        (DOCKERD_LOG=/var/log/dockerd.log)
set -euo pipefail

log=${DOCKERD_LOG:-/var/log/dockerd.log}
wait_s=${DOCKERD_WAIT_S:-60}
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

engine_answers() {
    # `docker info` talks to the engine; the client alone succeeding is not enough.
    timeout 10 docker info >/dev/null 2>&1
}

if command -v docker >/dev/null && engine_answers; then
    exit 0
fi

if ! command -v dockerd >/dev/null; then
    if ! command -v apt-get >/dev/null; then
        echo "no Docker Engine here: install Docker (https://docs.docker.com/engine/install/) and start it" >&2
        exit 1
    fi
    echo "installing docker.io"
    $sudo apt-get update -qq
    # iptables and ca-certificates are what dockerd needs at start; the rest is left out.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        docker.io iptables ca-certificates >/dev/null
fi

if ! engine_answers; then
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        $sudo systemctl start docker || true
    fi
fi

if ! engine_answers; then
    echo "starting dockerd (log: $log)"
    # setsid + nohup: the engine outlives this script and the shell that ran it.
    $sudo sh -c "setsid nohup dockerd >>'$log' 2>&1 </dev/null &"
fi

for _ in $(seq "$wait_s"); do
    if engine_answers; then
        exit 0
    fi
    sleep 1
done
echo "dockerd did not answer within ${wait_s}s; its log ends with:" >&2
$sudo tail -n 20 "$log" >&2 || true
exit 1
