#!/usr/bin/env bash
# Debian packages that stagefarm's build, tests, dev registry, base images and the BuildKit
# reference need. Idempotent: installs only what is missing (apt-get update once, first).
#
#   deploy/dev/host-deps.sh [--check]     --check: list what is missing, exit 1 if anything is
set -euo pipefail
# shellcheck source=deploy/dev/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGES=(
  runc             # executes RUN steps
  containernetworking-plugins iptables  # each RUN's network namespace: CNI bridge + host-local, NAT, firewall
  docker-registry  # local registry on 127.0.0.1:5000 (deploy/dev/registry.sh)
  busybox-static   # busybox/alpine stand-in base images
  debootstrap      # debian/golang base images
  umoci skopeo     # inspecting and unpacking OCI images in tests and by hand
  docker.io        # dockerd with BuildKit: the reference builder (../shared/tools/buildkit-reference)
  jq curl iproute2 ca-certificates
  openssl          # throw-away TLS certificates for the TLS and teams tests (TestPki)
  openssh-client   # ssh-agent, ssh-add, ssh-keygen: build --ssh key files and its e2e test
  maven            # bootstraps the Maven Wrapper's properties (deploy/dev/maven.sh)
)

if [ "${1:-}" = --check ]; then
  missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && { echo "all host packages installed"; exit 0; }
  echo "missing: ${missing[*]}"; exit 1
fi
sf_apt_ensure "${PACKAGES[@]}"
sf_log "host packages OK"
