#!/usr/bin/env bash
# A private Docker engine (Debian's docker.io dockerd) for tests and benchmarks: overlay2, no
# bridge, no iptables, Docker Hub names pulled through the local registry on 127.0.0.1:5000.
# It never touches a system dockerd: its own socket, data-root and exec-root.
#
#   deploy/dev/dockerd.sh start    start unless ours already answers
#   deploy/dev/dockerd.sh stop     stop the one this script started
#   deploy/dev/dockerd.sh status   exit 0 if it answers
#   deploy/dev/dockerd.sh env      print `export DOCKER_HOST=…` for eval
#
# Files: $STAGEFARM_STATE/docker (data-root), /run/stagefarm-dev (socket, pidfile, exec-root).
set -euo pipefail
# shellcheck source=deploy/dev/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUN=/run/stagefarm-dev
SOCK=unix://$RUN/docker.sock
DATA=$STAGEFARM_STATE/docker
PIDFILE=$RUN/docker.pid
LOG=$STAGEFARM_STATE/dockerd.log
WAIT_SECONDS=60

answers() { DOCKER_HOST=$SOCK docker info >/dev/null 2>&1; }

start() {
  if answers; then
    sf_log "dockerd already answers on $SOCK"; return 0
  fi
  command -v dockerd >/dev/null || sf_die "dockerd is not installed: run deploy/dev/host-deps.sh"
  mkdir -p "$RUN" "$DATA"
  setsid dockerd --iptables=false --ip-masq=false --bridge=none --storage-driver=overlay2 \
    --data-root="$DATA" --exec-root="$RUN/exec" --pidfile="$PIDFILE" \
    --insecure-registry=127.0.0.1:5000 --insecure-registry=localhost:5000 \
    --registry-mirror=http://127.0.0.1:5000 -H "$SOCK" >"$LOG" 2>&1 </dev/null &
  for _ in $(seq 1 $((WAIT_SECONDS * 2))); do
    if answers; then sf_log "dockerd answers on $SOCK (log: $LOG)"; return 0; fi
    sleep 0.5
  done
  tail -n 20 "$LOG" >&2 || true
  sf_die "dockerd did not answer on $SOCK within ${WAIT_SECONDS}s (log: $LOG)"
}

stop() {
  local pid
  if [ ! -s "$PIDFILE" ]; then sf_log "no dockerd started by this script is running"; return 0; fi
  pid=$(cat "$PIDFILE")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.2; done
  sf_log "stopped dockerd (pid $pid)"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) answers ;;
  env) echo "export DOCKER_HOST=$SOCK" ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
