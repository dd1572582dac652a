#!/usr/bin/env bash
# Trains the JDK's ahead-of-time cache (JEP 483/514/515) for bin/stagefarm: small builds through a
# throw-away farm on Unix sockets (what `build` against `stagefarm farm start`, and the farm
# itself, load) and one on a throw-away embedded farm (the default driver), in one JVM
# (`stagefarm aot-workload`), load and link the classes a real build needs and leave the method
# profiles of a farm that has served many builds; the JVM writes them to cli/target/stagefarm.aot,
# which the launcher then maps at start-up. The farm's builds are a small wide graph whose RUN
# steps run the host's static busybox (busybox-static), so no base image is needed; they run
# $STAGEFARM_AOT_ROUNDS times (default 40, about 30 s). Best effort: without a static busybox the
# training is one build with no RUN step; without root, runc or overlayfs the training build
# fails and the launcher simply runs without the cache.
#
# Then the thin start's own, small cache (cli/target/stagefarm-thin.aot): `--version`, and a build
# handed to a resident client that this script starts in a private directory and stops again.
#
#   deploy/dev/aot-train.sh
set -euo pipefail
# shellcheck source=deploy/dev/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cache=$STAGEFARM_ROOT/cli/target/stagefarm.aot
rounds=${STAGEFARM_AOT_ROUNDS:-40}
[[ $rounds =~ ^[0-9]+$ ]] || { sf_log "STAGEFARM_AOT_ROUNDS must be a number, not '$rounds'"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ctx"
echo "trained" > "$work/ctx/a"
printf 'FROM scratch\nCOPY a /a\nCMD ["/a"]\n' > "$work/ctx/Dockerfile"

# the farm's training context: three stages whose RUN steps run again each round, copied into one
busybox=$(command -v busybox || true)
if [ "$rounds" -gt 0 ] && [ -n "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1; then
  mkdir -p "$work/wide"
  cp "$busybox" "$work/wide/busybox"
  echo "trained" > "$work/wide/a"
  {
    printf 'FROM scratch AS base\nCOPY busybox /bin/busybox\n\n'
    for s in one two three; do
      printf 'FROM base AS %s\nARG TRAINING_ROUND\n' "$s"
      printf 'RUN ["/bin/busybox", "sh", "-c", "echo %s $TRAINING_ROUND > /%s"]\n\n' "$s" "$s"
    done
    printf 'FROM scratch\nCOPY a /a\n'
    for s in one two three; do printf 'COPY --from=%s /%s /%s\n' "$s" "$s" "$s"; done
    printf 'CMD ["/a"]\n'
  } > "$work/wide/Dockerfile"
fi

train() {   # train CONTEXT [aot-workload options]: writes $cache
  local ctx=$1; shift
  rm -rf "$work/run" "$cache"
  STAGEFARM_NO_AOT=1 STAGEFARM_JAVA_OPTS="-XX:AOTCacheOutput=$cache" \
    "$STAGEFARM_ROOT/bin/stagefarm" aot-workload "$@" "$ctx" "$work/run" >"$work/log" 2>&1 && [ -f "$cache" ]
}

rm -f "$cache"
if [ -d "$work/wide" ] && train "$work/wide" --repeat "$rounds"; then
  sf_log "AOT cache written: $cache ($(du -h "$cache" | cut -f1)), profiles of $((rounds + 1)) builds with RUN steps"
elif train "$work/ctx"; then
  sf_log "AOT cache written: $cache ($(du -h "$cache" | cut -f1)), one build without RUN steps"
else
  rm -f "$cache"
  sf_log "AOT training skipped (the launcher runs without the cache): $(tail -n 2 "$work/log" | tr '\n' ' ')"
fi

thin=$STAGEFARM_ROOT/cli/target/stagefarm-thin.aot
rm -f "$thin"
mkdir -m 0700 "$work/xdg"
# a missing context: the daemon answers with an error and exit code 1, the whole path of a build
XDG_RUNTIME_DIR=$work/xdg STAGEFARM_THIN_JAVA_OPTS="-XX:AOTCacheOutput=$thin" \
  "$STAGEFARM_ROOT/bin/stagefarm" build "$work/no-such-context" >"$work/thin.log" 2>&1 || true
for pid in "$work"/xdg/stagefarm/*.pid; do
  [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
done
if grep -q 'is not a directory' "$work/thin.log" && [ -f "$thin" ]; then
  sf_log "thin-start AOT cache written: $thin ($(du -h "$thin" | cut -f1))"
else
  rm -f "$thin"
  sf_log "thin-start AOT training skipped: $(tail -n 2 "$work/thin.log" | tr '\n' ' ')"
fi
