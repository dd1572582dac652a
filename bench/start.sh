# shellcheck shell=bash
# bench/run's start section (sourced by bench/run; see bench/README.md, "Fast start"): what a
# user waits for when nothing needs building. In one run, alternating the order each round:
#   java -version (the JDK stagefarm runs on) vs stagefarm --version;
#   the fully cached go-web rebuild: stagefarm through the local farm (Unix sockets) and through a
#   farm over TCP (cache-server, coordinator and one worker as processes on loopback ports), each
#   through the resident client (the default) and in a JVM of its own (STAGEFARM_NO_DAEMON=1),
#   against BuildKit's cached `docker build`, and `docker build` + `docker save` of the image to a
#   tar (dockerd 20.10's BuildKit has no docker exporter; stagefarm always writes that tar).
# Uses the variables and functions of bench/run (SNAP, WORK, STATE, RUNDIR, timed, step_cached, stats).

START_RUNS=${BENCH_START_RUNS:-7}
TCP_CACHE=127.0.0.1:17470
TCP_COORD=127.0.0.1:17471
START_ITEMS=(java-version sf-version sf-local sf-local-jvm sf-tcp sf-tcp-jvm bk-build bk-build-save)
declare -A START_TIMES=() TCP_PIDS=()

start_label() {
  case $1 in
    java-version) echo "\`java -version\` (same JDK)" ;;
    sf-version) echo "\`stagefarm --version\`" ;;
    sf-local) echo "stagefarm cached rebuild, local farm (resident client)" ;;
    sf-local-jvm) echo "stagefarm cached rebuild, local farm, own JVM (STAGEFARM_NO_DAEMON=1)" ;;
    sf-tcp) echo "stagefarm cached rebuild, farm over TCP (resident client)" ;;
    sf-tcp-jvm) echo "stagefarm cached rebuild, farm over TCP, own JVM (STAGEFARM_NO_DAEMON=1)" ;;
    bk-build) echo "BuildKit cached rebuild (\`docker build\`)" ;;
    bk-build-save) echo "BuildKit cached rebuild + \`docker save\` to a tar" ;;
  esac
}

tcp_farm_start() {
  local name
  mkdir -p "$STATE/tcp-farm" "$RUNDIR"
  # shellcheck disable=SC2054
  local -A cmds=(
    [cache-server]="cache-server --listen $TCP_CACHE --data $STATE/tcp-farm/cache"
    [coordinator]="coordinator --listen $TCP_COORD --cache $TCP_CACHE --registry-mirror docker.io=http://$REGISTRY --insecure-registry $REGISTRY"
    [worker]="worker --coordinator $TCP_COORD --cache $TCP_CACHE --name bench-tcp-1 --root $STATE/tcp-farm/worker --registry-mirror docker.io=http://$REGISTRY --insecure-registry $REGISTRY"
  )
  for name in cache-server coordinator worker; do
    # shellcheck disable=SC2086
    STAGEFARM_NO_DAEMON=1 setsid "$SNAP/bin/stagefarm" ${cmds[$name]} >>"$RUNDIR/tcp-$name.log" 2>&1 </dev/null &
    TCP_PIDS[$name]=$!
    sleep 1
  done
  for _ in $(seq 1 180); do
    if STAGEFARM_NO_DAEMON=1 "$SNAP/bin/stagefarm" workers --coordinator "$TCP_COORD" 2>/dev/null | grep -q bench-tcp-1; then
      log "farm over TCP up: coordinator $TCP_COORD, cache-server $TCP_CACHE, worker bench-tcp-1 (logs $RUNDIR/tcp-*.log)"
      return 0
    fi
    sleep 0.5
  done
  die "the farm over TCP did not come up in 90 s (logs $RUNDIR/tcp-*.log)"
}

tcp_farm_stop() {
  local name pid
  for name in worker coordinator cache-server; do
    pid=${TCP_PIDS[$name]:-}
    if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    unset "TCP_PIDS[$name]"
  done
  return 0
}

# The resident client of the bench's frozen copy lives in the bench's own runtime directory.
client_daemon_stop() {
  local p
  for p in "$WORK"/xdg/stagefarm/*.pid; do
    if [ -f "$p" ]; then kill -TERM "$(cat "$p")" 2>/dev/null || true; rm -f "$p"; fi
  done
  return 0
}

sf_cached_build() {   # sf_cached_build local|tcp
  local where=(); [ "$1" = tcp ] && where=(--coordinator "$TCP_COORD")
  STAGEFARM_SOCKET_DIR=$FARM_SOCKETS "$SNAP/bin/stagefarm" build --progress=plain -t "$TAG" "${where[@]}" \
    --output "type=docker,dest=$WORK/stagefarm-image.tar" --insecure-registry "$REGISTRY" "$CTX"
}

start_item() {
  case $1 in
    java-version) "$START_JDK/bin/java" -version ;;
    sf-version) "$SNAP/bin/stagefarm" --version ;;
    sf-local) sf_cached_build local ;;
    sf-local-jvm) STAGEFARM_NO_DAEMON=1 sf_cached_build local ;;
    sf-tcp) sf_cached_build tcp ;;
    sf-tcp-jvm) STAGEFARM_NO_DAEMON=1 sf_cached_build tcp ;;
    bk-build) buildkit_build ;;
    bk-build-save) buildkit_build && "$DOCKER" save -o "$WORK/buildkit-image.tar" "$TAG" ;;
  esac
}

# timed_ms LOG CMD...: like timed, in milliseconds.
timed_ms() {
  local log=$1 t0 t1; shift
  t0=${EPOCHREALTIME/./}
  if ! "$@" > "$log" 2>&1; then
    tail -25 "$log" >&2
    die "failed: $* (log: $log)"
  fi
  t1=${EPOCHREALTIME/./}
  echo $(( (t1 - t0) / 1000 ))
}

start_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

start_report() {
  local item s m=() r
  declare -A med=()
  echo "| what | median ms | min | max |"
  echo "|---|---:|---:|---:|"
  for item in "${START_ITEMS[@]}"; do
    read -r -a s <<<"$(stats "${START_TIMES[$item]}")"
    med[$item]=${s[0]}
    printf '| %s | %.0f | %.0f | %.0f |\n' "$(start_label "$item")" "${s[0]}" "${s[1]}" "${s[2]}"
  done
  echo
  echo "| ratio (medians) | value | target |"
  echo "|---|---:|---|"
  echo "| \`stagefarm --version\` / \`java -version\` | $(start_ratio "${med[sf-version]}" "${med[java-version]}") | ≤ 2 |"
  for r in local tcp; do
    echo "| stagefarm $r farm / BuildKit cached rebuild | $(start_ratio "${med[sf-$r]}" "${med[bk-build]}") | ≤ 2 |"
    echo "| stagefarm $r farm / BuildKit rebuild + docker save | $(start_ratio "${med[sf-$r]}" "${med[bk-build-save]}") | — |"
    echo "| stagefarm $r farm, own JVM / BuildKit cached rebuild | $(start_ratio "${med[sf-$r-jvm]}" "${med[bk-build]}") | (before) |"
  done
  echo
  echo "Raw times, ms, in run order:"
  echo
  for item in "${START_ITEMS[@]}"; do echo "- $item: ${START_TIMES[$item]% }"; done
}

run_start_section() {
  local i item order log secs load_start
  load_start=$(cut -d' ' -f1-3 /proc/loadavg)
  START_JDK=$(sf_find_jdk)
  mkdir -p -m 0700 "$WORK/xdg"
  export XDG_RUNTIME_DIR=$WORK/xdg   # the bench's own resident client, stopped at the end
  [ -d "$CTX" ] || cp -r "$EXAMPLE" "$CTX"
  if ! STAGEFARM_SOCKET_DIR=$FARM_SOCKETS "$SNAP/bin/stagefarm" farm status >/dev/null 2>&1; then
    STAGEFARM_SOCKET_DIR=$FARM_SOCKETS "$SNAP/bin/stagefarm" farm start --data "$STATE/farm" \
      --registry-mirror "docker.io=http://$REGISTRY" --insecure-registry "$REGISTRY" >&2 \
      || die "the local farm did not start (log: $FARM_SOCKETS/farm.log)"
  fi
  tcp_farm_start
  log "warming up: one build on each side (cold if their caches are empty: minutes), then the resident client"
  for item in sf-local sf-tcp bk-build sf-local sf-tcp; do
    timed_ms "$LOGS/start-warmup-$item.log" start_item "$item" >/dev/null
  done
  log "$START_RUNS rounds of: ${START_ITEMS[*]}"
  for i in $(seq 1 "$START_RUNS"); do
    if (( i % 2 )); then order=("${START_ITEMS[@]}"); else
      order=(); for item in "${START_ITEMS[@]}"; do order=("$item" "${order[@]}"); done
    fi
    for item in "${order[@]}"; do
      log=$LOGS/start-$i-$item.log
      sync
      secs=$(timed_ms "$log" start_item "$item")
      case $item in
        sf-local*|sf-tcp*|bk-build*)   # step_cached reads stamped logs: one field before the step id
          step_cached <(sed 's/^/0 /' "$log") "RUN go build" || die "$item ran 'go build' (log: $log)" ;;
      esac
      START_TIMES[$item]+="$secs "
    done
    printf '  round %d: %s   (load %s)\n' "$i" \
      "$(for item in "${START_ITEMS[@]}"; do t=${START_TIMES[$item]% }; printf '%s %s ms  ' "$item" "${t##* }"; done)" \
      "$(cut -d' ' -f1 /proc/loadavg)" | tr -s ' '
  done
  {
    echo "# Fast start: stagefarm vs BuildKit, nothing to build"
    echo
    start_report
    echo
    echo "- $(date -u '+%Y-%m-%d %H:%M UTC'), $START_RUNS rounds, load average at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- stagefarm $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'), JDK $START_JDK"
    echo "- $("$DOCKER" version --format 'docker client {{.Client.Version}}, dockerd {{.Server.Version}}')"
    echo "- $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r)"
  } > "$RESULTS/start.md"
  echo
  start_report
  tcp_farm_stop
  client_daemon_stop
}
