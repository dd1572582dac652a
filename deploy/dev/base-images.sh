#!/usr/bin/env bash
# Base images for tests and examples, made offline from Debian packages and published to the
# local registry by stagefarm itself (FROM scratch + ADD rootfs.tar /).
#
#   deploy/dev/base-images.sh [--force] [--rootfs-only] [--keep-dirs] [NAME...]
#
#   NAME          busybox alpine debian golang (default: all four)
#   --force       rebuild the root filesystems and republish even if cached / already pushed
#   --republish   keep cached rootfs tars but publish again even if the registry has the tag
#   --rootfs-only only make the rootfs tars and build contexts; do not publish
#   --keep-dirs   keep the unpacked root filesystems under $STAGEFARM_STATE/rootfs/NAME/
#
# Results: $STAGEFARM_STATE/rootfs/NAME.tar, build contexts $STAGEFARM_STATE/contexts/NAME/,
# and 127.0.0.1:5000/library/{busybox:latest,alpine:latest,debian:bookworm-slim,golang:latest}
# (Docker Hub names, so `--registry-mirror docker.io=http://127.0.0.1:5000` resolves them).
# Needs root (debootstrap, chroot). STAGEFARM_REGISTRY overrides 127.0.0.1:5000.
set -euo pipefail
# shellcheck source=deploy/dev/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

force=0 republish=0 publish=1 keep_dirs=0 names=()
while [ $# -gt 0 ]; do
  case $1 in
    --force) force=1; republish=1 ;;
    --republish) republish=1 ;;
    --rootfs-only) publish=0 ;;
    --keep-dirs) keep_dirs=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    busybox|alpine|debian|golang) names+=("$1") ;;
    *) sf_die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
[ ${#names[@]} -gt 0 ] || names=(busybox alpine debian golang)
[ "$(id -u)" -eq 0 ] || sf_die "needs root (debootstrap, chroot)"

SUITE=bookworm
REGISTRY=${STAGEFARM_REGISTRY:-127.0.0.1:5000}
ROOTFS=$STAGEFARM_STATE/rootfs
CONTEXTS=$STAGEFARM_STATE/contexts
PATH_DEFAULT=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p "$ROOTFS" "$CONTEXTS"

# One run at a time: two runs would debootstrap into the same directories.
exec 9>"$STAGEFARM_STATE/base-images.lock"
flock -w 1800 9 || sf_die "another base-images.sh is still running (lock $STAGEFARM_STATE/base-images.lock)"

declare -A TAG=([busybox]=latest [alpine]=latest [debian]=bookworm-slim [golang]=latest)

mounts=()
cleanup() {
  local i
  for (( i=${#mounts[@]}-1; i>=0; i-- )); do umount -l "${mounts[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT

# rm -rf that first detaches anything mounted below DIR (a crashed run may have left /dev bound
# there) and never crosses into another file system.
safe_rm() {
  local dir=$1 m
  [ -e "$dir" ] || return 0
  dir=$(realpath "$dir")
  case $dir in "$ROOTFS"/*) ;; *) sf_die "refusing to remove $dir (outside $ROOTFS)" ;; esac
  while read -r m; do
    umount -l "$m" || sf_die "cannot unmount $m"
  done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

# tar DIR -> OUT atomically. Sorted entries so equal trees give equal tars.
# $3=root: every entry owned by 0:0 and dated 1970 (busybox trees: then the same busybox gives
# the same tar, byte for byte); otherwise numeric owners and times as on disk.
make_tar() {
  local dir=$1 out=$2 owners=${3:-}
  local args=(--numeric-owner --sort=name -C "$dir" -cf "$out.tmp" .)
  [ "$owners" = root ] && args=(--owner=0 --group=0 --mtime=@0 "${args[@]}")
  tar "${args[@]}"
  mv -f "$out.tmp" "$out"
  sf_log "wrote $out ($(du -h "$out" | cut -f1))"
}

want_rootfs() { [ "$force" -eq 1 ] || [ ! -s "$ROOTFS/$1.tar" ]; }

# --- busybox (and the alpine stand-in: the same tree, honest os-release) -------------------
build_busybox_like() {
  local name=$1 pretty=$2
  want_rootfs "$name" || { sf_log "$name rootfs cached: $ROOTFS/$name.tar"; return 0; }
  sf_apt_ensure busybox-static
  local bb=/bin/busybox dir=$ROOTFS/$name
  file -L "$bb" 2>/dev/null | grep -q 'statically linked' || ldd "$bb" 2>&1 | grep -q 'not a dynamic' \
    || sf_die "$bb is not statically linked (install busybox-static, not busybox)"
  safe_rm "$dir"; mkdir -p "$dir"
  ( cd "$dir"
    mkdir -p bin sbin usr/bin usr/sbin etc root tmp var/tmp home dev proc sys run
    chmod 1777 tmp var/tmp; chmod 700 root
    install -m 0755 "$bb" bin/busybox
    # --list-full gives each applet's usual directory (bin/sh, usr/bin/awk, sbin/ip, ...)
    local applet
    if "$bb" --list-full >/dev/null 2>&1; then
      while read -r applet; do
        case $applet in ''|linuxrc|bin/busybox) continue ;; esac
        mkdir -p "$(dirname "$applet")"
        [ -e "$applet" ] || ln -s /bin/busybox "$applet"
      done < <("$bb" --list-full)
    else
      while read -r applet; do
        [ -n "$applet" ] && [ "$applet" != busybox ] && ln -sf /bin/busybox "bin/$applet"
      done < <("$bb" --list)
    fi
    [ -L bin/sh ] || ln -s /bin/busybox bin/sh
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' > etc/passwd
    printf '%s\n' 'root:x:0:' 'nobody:x:65534:' > etc/group
    printf '%s\n' 'root:*:0:0:99999:7:::' 'nobody:*:0:0:99999:7:::' > etc/shadow; chmod 600 etc/shadow
    printf '%s\n' "127.0.0.1 localhost" "::1 localhost ip6-localhost ip6-loopback" > etc/hosts
    local bbver; bbver=$("$bb" 2>&1 | sed -n '1s/^BusyBox v\([^ ]*\).*/\1/p')
    cat > etc/os-release <<OSR
NAME="$pretty"
ID=stagefarm-$name
VERSION_ID="${bbver:-unknown}"
PRETTY_NAME="$pretty, BusyBox ${bbver:-unknown} from Debian busybox-static"
HOME_URL="about:blank"
OSR
  )
  make_tar "$dir" "$ROOTFS/$name.tar" root
  [ "$keep_dirs" -eq 1 ] || safe_rm "$dir"
}

# --- debian: debootstrap minbase -------------------------------------------------------
clean_debian_tree() {
  local dir=$1
  if awk -v d="$(realpath "$dir")/" 'index($2, d) == 1 { f=1 } END { exit !f }' /proc/self/mounts; then
    sf_die "something is still mounted under $dir; not cleaning it"
  fi
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb \
         "$dir"/var/cache/apt/archives/partial/* "$dir"/var/cache/debconf/*-old "$dir"/var/lib/dpkg/*-old \
         "$dir"/var/log/apt/* "$dir"/var/log/dpkg.log "$dir"/var/log/alternatives.log "$dir"/var/log/bootstrap.log \
         "$dir"/tmp/* "$dir"/var/tmp/* "$dir"/root/.cache "$dir"/usr/sbin/policy-rc.d
  # The runtime provides these; device nodes in a layer would need CAP_MKNOD to unpack.
  rm -rf "${dir:?}"/dev/* "${dir:?}"/proc/* "${dir:?}"/sys/* "${dir:?}"/run/*
  : > "$dir/etc/resolv.conf"; chmod 644 "$dir/etc/resolv.conf"; rm -f "$dir/etc/hostname"
  # Keep the image small the way Debian's own slim images do.
  cat > "$dir/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
EOF
}

build_debian() {
  want_rootfs debian || { sf_log "debian rootfs cached: $ROOTFS/debian.tar"; return 0; }
  sf_apt_ensure debootstrap
  local mirror dir=$ROOTFS/debian t0
  mirror=$(sf_debian_mirror "$SUITE") || sf_die "no Debian mirror for '$SUITE' in /etc/apt/sources.list{,.d/*}; set STAGEFARM_DEBIAN_MIRROR"
  safe_rm "$dir"; mkdir -p "$dir"
  sf_log "debootstrap --variant=minbase $SUITE from $mirror (a few minutes)"
  t0=$(date +%s.%N)
  debootstrap --variant=minbase "$SUITE" "$dir" "$mirror" > "$ROOTFS/debootstrap.log" 2>&1 \
    || { tail -20 "$ROOTFS/debootstrap.log" >&2; sf_die "debootstrap failed, log: $ROOTFS/debootstrap.log"; }
  sf_log "debootstrap took $(elapsed "$t0") s"
  clean_debian_tree "$dir"
  make_tar "$dir" "$ROOTFS/debian.tar"
  [ "$keep_dirs" -eq 1 ] || safe_rm "$dir"
}

# --- golang: the debian tree plus Debian's golang-go -------------------------------------
chroot_mount() { mount "$@"; mounts+=("${!#}"); }

build_golang() {
  want_rootfs golang || { sf_log "golang rootfs cached: $ROOTFS/golang.tar"; return 0; }
  [ -s "$ROOTFS/debian.tar" ] || build_debian
  local dir=$ROOTFS/golang t0 m
  safe_rm "$dir"; mkdir -p "$dir"
  t0=$(date +%s.%N)
  tar --numeric-owner -C "$dir" -xf "$ROOTFS/debian.tar"
  chroot_mount -t proc proc "$dir/proc"
  chroot_mount --bind /dev "$dir/dev"
  cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
  printf '#!/bin/sh\nexit 101\n' > "$dir/usr/sbin/policy-rc.d"; chmod 755 "$dir/usr/sbin/policy-rc.d"
  sf_log "installing golang-go into the debian rootfs"
  if ! chroot "$dir" /usr/bin/env -i PATH=$PATH_DEFAULT DEBIAN_FRONTEND=noninteractive HOME=/root sh -c '
        apt-get -q -o Acquire::Check-Valid-Until=false update &&
        apt-get -q install -y --no-install-recommends golang-go ca-certificates &&
        apt-get clean' > "$ROOTFS/golang-apt.log" 2>&1; then
    tail -20 "$ROOTFS/golang-apt.log" >&2; sf_die "apt-get install golang-go in the chroot failed, log: $ROOTFS/golang-apt.log"
  fi
  # Debian links /usr/bin/go -> ../lib/go/bin/go; the image's PATH also names /usr/lib/go/bin.
  chroot "$dir" /usr/bin/env -i PATH=$PATH_DEFAULT:/usr/lib/go/bin HOME=/root go version >&2 \
    || sf_die "go does not run inside the golang rootfs"
  # Like the official image: GOPATH=/go, world-writable so non-root builds work too.
  mkdir -p "$dir/go/src" "$dir/go/bin"; chmod -R 1777 "$dir/go"
  cleanup; mounts=()
  clean_debian_tree "$dir"
  sf_log "golang rootfs took $(elapsed "$t0") s"
  make_tar "$dir" "$ROOTFS/golang.tar"
  [ "$keep_dirs" -eq 1 ] || safe_rm "$dir"
}

# --- build contexts ------------------------------------------------------------------------
write_context() {
  local name=$1 ctx=$CONTEXTS/$1 desc cmd env
  mkdir -p "$ctx"
  ln -f "$ROOTFS/$name.tar" "$ctx/rootfs.tar" 2>/dev/null || cp -f "$ROOTFS/$name.tar" "$ctx/rootfs.tar"
  env="ENV PATH=$PATH_DEFAULT"
  cmd='CMD ["sh"]'
  case $name in
    busybox) desc="BusyBox (Debian busybox-static) stand-in for busybox, built offline by stagefarm" ;;
    alpine)  desc="busybox-based stand-in for alpine (not Alpine Linux: BusyBox from Debian busybox-static), built offline by stagefarm" ;;
    debian)  desc="Debian $SUITE minbase (debootstrap) stand-in for debian:bookworm-slim, built offline by stagefarm"
             cmd='CMD ["bash"]' ;;
    golang)  desc="Debian $SUITE with Debian's golang-go, stand-in for golang, built offline by stagefarm"
             env="ENV GOPATH=/go
ENV CGO_ENABLED=0
ENV PATH=/go/bin:/usr/lib/go/bin:$PATH_DEFAULT
WORKDIR /go"
             cmd='CMD ["bash"]' ;;
  esac
  cat > "$ctx/Dockerfile.tmp" <<EOF
FROM scratch
ADD rootfs.tar /
LABEL org.opencontainers.image.description="$desc"
$env
$cmd
EOF
  mv -f "$ctx/Dockerfile.tmp" "$ctx/Dockerfile"
}

# --- publish with stagefarm itself --------------------------------------------------------
MANIFEST_ACCEPT=(
  -H 'Accept: application/vnd.oci.image.index.v1+json'
  -H 'Accept: application/vnd.oci.image.manifest.v1+json'
  -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json'
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json'
)
registry_has() { curl -fsSI "${MANIFEST_ACCEPT[@]}" "http://$REGISTRY/v2/library/$1/manifests/$2" >/dev/null 2>&1; }

publish() {
  local name=$1 tag=${TAG[$1]} ref t0
  ref=$REGISTRY/library/$name:$tag
  if [ "$republish" -eq 0 ] && registry_has "$name" "$tag"; then
    sf_log "$ref already in the registry (use --republish to publish again)"; return 0
  fi
  sf_log "publishing $ref"
  t0=$(date +%s.%N)
  if ! "$STAGEFARM_ROOT/bin/stagefarm" build -t "$ref" \
        --output "type=image,name=$ref,push=true" \
        --insecure-registry "$REGISTRY" "$CONTEXTS/$name"; then
    sf_die "stagefarm failed to build/push $ref from $CONTEXTS/$name — base images are NOT published"
  fi
  registry_has "$name" "$tag" || sf_die "stagefarm reported success but the registry does not serve $ref"
  sf_log "published $ref in $(elapsed "$t0") s"
}

for n in "${names[@]}"; do
  case $n in
    busybox) build_busybox_like busybox "stagefarm busybox stand-in" ;;
    alpine)  build_busybox_like alpine "stagefarm alpine stand-in (busybox)" ;;
    debian)  build_debian ;;
    golang)  build_golang ;;
  esac
  write_context "$n"
done

if [ "$publish" -eq 1 ]; then
  curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1 || sf_die "no registry answers at http://$REGISTRY/v2/ (deploy/dev/registry.sh start)"
  [ -x "$STAGEFARM_ROOT/bin/stagefarm" ] || sf_die "$STAGEFARM_ROOT/bin/stagefarm missing"
  for n in "${names[@]}"; do publish "$n"; done
fi
sf_log "done: ${names[*]}"
