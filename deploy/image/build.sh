#!/usr/bin/env bash
# Builds the stagefarm image with stagefarm itself.
#
#   deploy/image/build.sh [--push REF] [--output PATH]
#
# 1. ./mvnw package of the CLI and its runtime jars (cli/target, cli/target/lib);
# 2. a staging context (not the repository: it is big): a runtime jlinked from this machine's
#    JDK 25 with the modules jdeps finds in the jars, the jars (RocksDB's jar cut down to this
#    machine's native library), the classpath the image runs with, the Dockerfile;
# 3. bin/stagefarm build on it, from the offline base images of the local registry
#    (deploy/dev/base-images.sh), in an embedded farm of its own (its data in a temporary
#    directory). Output: a docker-loadable tarball (default deploy/image/target/stagefarm.tar,
#    tag stagefarm:0.1.0), or with --push REF the image pushed to REF (a registry other than the
#    mirror's must speak TLS).
# STAGEFARM_IMAGE_MIRROR (default http://127.0.0.1:5000) is where docker.io's images come from.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=deploy/dev/lib.sh
source "$here/../dev/lib.sh"
root=$STAGEFARM_ROOT

push="" out=$here/target/stagefarm.tar tag=stagefarm:0.1.0
while [ $# -gt 0 ]; do
  case $1 in
    --push) [ $# -ge 2 ] || sf_die "--push needs an image reference, e.g. --push 127.0.0.1:5000/stagefarm:0.1.0"
            push=$2; shift 2 ;;
    --output) [ $# -ge 2 ] || sf_die "--output needs a file name"; out=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) sf_die "unknown argument $1 (see deploy/image/build.sh --help)" ;;
  esac
done
mirror=${STAGEFARM_IMAGE_MIRROR:-http://127.0.0.1:5000}
mirror_host=${mirror#*://}

# shellcheck source=deploy/dev/maven.sh
source "$root/deploy/dev/maven.sh" >/dev/null
command -v zip >/dev/null || sf_die "zip is missing: run deploy/dev/host-deps.sh"

if [ -z "${STAGEFARM_IMAGE_SKIP_MAVEN:-}" ]; then
  sf_log "building the CLI and its jars (./mvnw package, tests skipped)"
  (cd "$root" && ./mvnw -q -B -pl cli -am package -DskipTests)
fi
jar=$root/cli/target/stagefarm-cli-0.1.0-SNAPSHOT.jar
[ -f "$jar" ] && [ -d "$root/cli/target/lib" ] || sf_die "no $jar or cli/target/lib after the Maven build"

work=$(mktemp -d /var/tmp/stagefarm-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
ctx=$work/context
mkdir -p "$ctx/app/lib"
cp "$root/cli/target/lib/"*.jar "$ctx/app/lib/"
cp "$jar" "$ctx/app/stagefarm-cli.jar"

# RocksDB's jar carries its native library for every platform (92 MB); the image needs one.
case $(uname -m) in
  x86_64) keep=librocksdbjni-linux64.so ;;
  aarch64) keep=librocksdbjni-linux-aarch64.so ;;
  *) sf_die "no RocksDB native library chosen for $(uname -m)" ;;
esac
for r in "$ctx"/app/lib/rocksdbjni-*.jar; do
  drop=$(unzip -Z1 "$r" | grep -E '^librocksdbjni-.*\.(so|jnilib|dll)$' | grep -vx "$keep" || true)
  # shellcheck disable=SC2086  # one name per line, none with spaces
  [ -z "$drop" ] || zip -q -d "$r" $drop
done

# The runtime: the modules the jars use (jdeps) plus those reached only by reflection or
# service lookup: jdk.crypto.ec (TLS with EC keys), jdk.naming.dns (gRPC's DNS resolver),
# jdk.zipfs (zip file systems), jdk.management (micrometer's JVM meters).
modules=$("$JAVA_HOME/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 25 \
  --class-path "$ctx/app/lib/*" "$ctx/app/stagefarm-cli.jar")
modules=$(printf '%s\n' "$modules,jdk.crypto.ec,jdk.naming.dns,jdk.zipfs,jdk.management" | tr , '\n' | sort -u | paste -sd,)
sf_log "jlink: $modules"
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --compress=zip-6 --output "$ctx/runtime"

# Sorted, explicit jar list: the AOT cache matches this classpath only (see bin/stagefarm).
(cd "$ctx/app" && find lib -name '*.jar' | LC_ALL=C sort | sed 's|^|/opt/stagefarm/app/|' \
  | tr '\n' ':'; printf '/opt/stagefarm/app/stagefarm-cli.jar\n') > "$ctx/classpath"
cp "$here/Dockerfile" "$here/stagefarm" "$ctx/"

if [ -n "$push" ]; then
  output=(--output "type=image,name=$push,push=true")
else
  mkdir -p "$(dirname "$out")"
  output=(--output "type=docker,dest=$out")
fi
sf_log "building $([ -n "$push" ] && echo "and pushing $push" || echo "$tag into $out")"
"$root/bin/stagefarm" build --data "$work/farm" -t "$tag" "${output[@]}" --progress plain \
  --registry-mirror "docker.io=$mirror" --insecure-registry "$mirror_host" \
  "$ctx"
sf_log "done: $([ -n "$push" ] && echo "$push" || echo "$out")"
