#!/usr/bin/env bash
# Trains the JDK's ahead-of-time cache (JEP 483/514) for bin/stagefarm: one small build through a
# throw-away farm on Unix sockets (what `build` against `stagefarm farm start`, and the farm
# itself, load) and one on a throw-away embedded farm (the default driver), in one JVM
# (`stagefarm aot-workload`), load and link the classes a real build needs; the JVM writes them
# to cli/target/stagefarm.aot, which the launcher then maps at start-up. Best effort:
# without root, runc or overlayfs the training build fails and the launcher simply runs without it.
#
# Then the thin start's own, small cache (cli/target/stagefarm-thin.aot): `--version`, and a build
# handed to a resident client that this script starts in a private directory and stops again.
#
#   deploy/dev/aot-train.sh
set -euo pipefail
# shellcheck source=deploy/dev/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cache=$STAGEFARM_ROOT/cli/target/stagefarm.aot
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ctx"
echo "trained" > "$work/ctx/a"
printf 'FROM scratch\nCOPY a /a\nCMD ["/a"]\n' > "$work/ctx/Dockerfile"
rm -f "$cache"
if STAGEFARM_NO_AOT=1 STAGEFARM_JAVA_OPTS="-XX:AOTCacheOutput=$cache" \
   "$STAGEFARM_ROOT/bin/stagefarm" aot-workload "$work/ctx" "$work/run" >"$work/log" 2>&1 && [ -f "$cache" ]; then
  sf_log "AOT cache written: $cache ($(du -h "$cache" | cut -f1))"
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
