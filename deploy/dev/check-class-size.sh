#!/usr/bin/env bash
# Fails when a main (non-test) Java class passes the house limit of 600 lines: past that a class
# almost always has more than one job. Run by bin/test, so by .ci/run.
#   deploy/dev/check-class-size.sh [LIMIT]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd -P)
limit=${1:-600}
over=$(find "$root" -path "$root/.git" -prune -o -path '*/target' -prune -o \
  -path '*/src/main/java/*' -name '*.java' -print0 \
  | xargs -0 wc -l | awk -v l="$limit" '$2 != "total" && $1 > l { print $1 " " $2 }' | sort -rn)
if [ -n "$over" ]; then
  echo "[check-class-size] main classes over $limit lines (split them along their jobs):" >&2
  echo "$over" | sed "s|$root/||" >&2
  exit 1
fi
echo "[check-class-size] every main class is at most $limit lines" >&2
