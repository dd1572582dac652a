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
  apache2-utils    # htpasswd: the private registry with Basic auth of TeamRegistryAuthEndToEndTest
  openssh-client   # ssh-agent, ssh-add, ssh-keygen: build --ssh key files and its e2e test
  gcc libc6-dev    # the worker's sandbox test compiles a static syscall probe into a rootfs
  maven            # bootstraps the Maven Wrapper's properties (deploy/dev/maven.sh)
  zip unzip        # deploy/image/build.sh: cuts RocksDB's jar down to the image's platform
  chromium         # the coordinator's web view, tested in headless Chromium over DevTools (FarmViewEndToEndTest)
  fonts-dejavu-core  # bench/sim/run draws its PNG with JFreeChart (headless Java2D needs a font)
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
# Not a Debian package: Debian's kubectl (kubernetes-client 1.20) carries a kustomize too old for
# deploy/k8s, which deploy-test renders with `kubectl kustomize`.
command -v kubectl >/dev/null 2>&1 \
  || sf_die "kubectl is missing: deploy-test renders deploy/k8s with 'kubectl kustomize'; install kubectl >= 1.27 from the Kubernetes release (not Debian's kubernetes-client 1.20, its kustomize is too old)"
sf_log "host packages OK"
