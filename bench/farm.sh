# shellcheck shell=bash
# bench/run's farm section (sourced by bench/run; `bench/run --farm-only`; see bench/README.md,
# "A shared farm"): issue 12's benchmarks of the farm itself, each run BENCH_FARM_RUNS times:
#   wide     8 independent `RUN sleep 2` stages and a final stage copying from all 8, on a local
#            farm of 4 workers: wall time over the 2 s critical path, against BuildKit's in the run;
#   fair     team A submits 10 builds of 3 x `sleep 3` stages at once, then team B one build of one
#            `sleep 1` stage, on 2 workers x 1 slot: B's queue wait against the earliest running
#            job's remaining time + 0.2 s (BuildKit has no teams: no comparison);
#   many     20 builds of 3 Dockerfiles from 4 clients at once on 3 workers x 2 slots: every result
#            checked, total time against the work divided by the slots, and BuildKit's time.
# Every build gets a nonce build-arg used by each of its stages, so nothing comes from a cache.
# Uses the variables and functions of bench/run (SNAP, WORK, STATE, RUNDIR, REGISTRY, DOCKER,
# LOGS, RESULTS, timed, step_cached, stats, log, die).

FARM_RUNS=${BENCH_FARM_RUNS:-3}
WIDE_SOCKETS=$RUNDIR/farm4              # the 4-worker local farm of the wide graph
SCHED_CACHE=127.0.0.1:17480             # the farm over TCP of "fair" and "many"
SCHED_COORD=127.0.0.1:17481
FAIR_FARM=sf_bench_fair_farm_token      # loopback-only tokens of the bench's own farm
FAIR_A=sf_bench_fair_team_a
FAIR_B=sf_bench_fair_team_b
declare -A SCHED_PIDS=() FARM_TIMES=()
FAIR_ROWS=""

farm_load() { cut -d' ' -f1 /proc/loadavg; }
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# An RFC 3339 instant (a stage's startedAt/finishedAt) as epoch seconds with nanoseconds.
epoch_of() { date -d "$1" +%s.%N; }

ensure_busybox() {
  manifest_exists busybox || "$ROOT/deploy/dev/base-images.sh" busybox
}

# ---- wide graph ---------------------------------------------------------------------------
wide_context() {   # wide_context DIR
  local i
  mkdir -p "$1"
  {
    for i in 1 2 3 4 5 6 7 8; do
      printf 'FROM busybox AS s%d\nARG NONCE\nRUN echo "$NONCE" > /nonce && sleep 2 && echo s%d > /out\n\n' "$i" "$i"
    done
    echo "FROM busybox"
    for i in 1 2 3 4 5 6 7 8; do echo "COPY --from=s$i /out /out$i"; done
  } > "$1/Dockerfile"
}

wide_farm_start() {
  STAGEFARM_SOCKET_DIR=$WIDE_SOCKETS "$SNAP/bin/stagefarm" farm status >/dev/null 2>&1 && return 0
  STAGEFARM_SOCKET_DIR=$WIDE_SOCKETS "$SNAP/bin/stagefarm" farm start --workers 4 --data "$STATE/farm4" \
    --registry-mirror "docker.io=http://$REGISTRY" --insecure-registry "$REGISTRY" >&2 \
    || die "the 4-worker local farm did not start (log: $WIDE_SOCKETS/farm.log)"
}

wide_farm_stop() {
  [ -x "${SNAP:-}/bin/stagefarm" ] || return 0
  STAGEFARM_SOCKET_DIR=$WIDE_SOCKETS "$SNAP/bin/stagefarm" farm stop >&2 2>/dev/null || true
}

wide_build() {   # wide_build stagefarm|buildkit NONCE
  case $1 in
    stagefarm) STAGEFARM_SOCKET_DIR=$WIDE_SOCKETS "$SNAP/bin/stagefarm" build --progress=plain -t wide-bench:latest \
        --build-arg "NONCE=$2" --output "type=docker,dest=$WORK/wide.tar" --insecure-registry "$REGISTRY" "$WORK/wide" ;;
    buildkit) "$DOCKER" build --progress=plain --network=none -t wide-bench:latest --build-arg "NONCE=$2" "$WORK/wide" ;;
  esac
}

run_wide() {
  local i side order secs load log
  wide_context "$WORK/wide"
  wide_farm_start
  log "wide: warming up (busybox pulled on each side, not timed)"
  for side in stagefarm buildkit; do timed "$LOGS/farm-wide-warmup-$side.log" wide_build "$side" "warmup-$RANDOM" >/dev/null; done
  for i in $(seq 1 "$FARM_RUNS"); do
    if (( i % 2 )); then order=(stagefarm buildkit); else order=(buildkit stagefarm); fi
    for side in "${order[@]}"; do
      log=$LOGS/farm-wide-$i-$side.log
      sync
      load=$(farm_load)
      secs=$(timed "$log" wide_build "$side" "run-$i-$side-$EPOCHREALTIME")
      step_cached "$log" "sleep 2" && die "wide $side took the sleep from its cache (log: $log)"
      FARM_TIMES[wide,$side]+="$secs "
      printf '  wide run %d  %-9s %6.2f s  over the 2 s path %5.2f s  (load average before: %s)\n' \
        "$i" "$side" "$secs" "$(awk -v s="$secs" 'BEGIN { printf "%.2f", s - 2 }')" "$load"
    done
  done
  wide_farm_stop
}

# ---- the farm over TCP of "fair" and "many" ---------------------------------------------
sched_farm_start() {   # sched_farm_start WORKERS SLOTS [TOKENS_FILE]
  local workers=$1 slots=$2 tokens=${3:-} server=() farm=() name i
  [ -n "$tokens" ] && server=(--tokens "$tokens") && farm=(--token "$FAIR_FARM")
  mkdir -p "$STATE/sched-farm"
  STAGEFARM_NO_DAEMON=1 setsid "$SNAP/bin/stagefarm" cache-server --listen "$SCHED_CACHE" \
    --data "$STATE/sched-farm/cache" "${server[@]}" >>"$RUNDIR/sched-cache-server.log" 2>&1 </dev/null &
  SCHED_PIDS[cache-server]=$!
  sleep 1
  STAGEFARM_NO_DAEMON=1 setsid "$SNAP/bin/stagefarm" coordinator --listen "$SCHED_COORD" --cache "$SCHED_CACHE" \
    "${server[@]}" "${farm[@]}" --registry-mirror "docker.io=http://$REGISTRY" --insecure-registry "$REGISTRY" \
    >>"$RUNDIR/sched-coordinator.log" 2>&1 </dev/null &
  SCHED_PIDS[coordinator]=$!
  sleep 1
  for i in $(seq 1 "$workers"); do
    name=bench-sched-$i
    STAGEFARM_NO_DAEMON=1 setsid "$SNAP/bin/stagefarm" worker --coordinator "$SCHED_COORD" --cache "$SCHED_CACHE" \
      --name "$name" --root "$STATE/sched-farm/$name" --slots "$slots" --drain-timeout 10 "${farm[@]}" \
      --registry-mirror "docker.io=http://$REGISTRY" --insecure-registry "$REGISTRY" \
      >>"$RUNDIR/sched-$name.log" 2>&1 </dev/null &
    SCHED_PIDS[$name]=$!
  done
  for _ in $(seq 1 240); do
    if [ "$(STAGEFARM_NO_DAEMON=1 "$SNAP/bin/stagefarm" workers --coordinator "$SCHED_COORD" "${farm[@]}" 2>/dev/null \
          | grep -c bench-sched-)" -eq "$workers" ]; then
      log "farm over TCP up: $workers workers x $slots slots (logs $RUNDIR/sched-*.log)"
      return 0
    fi
    sleep 0.5
  done
  die "the farm over TCP did not come up in 120 s (logs $RUNDIR/sched-*.log)"
}

sched_farm_stop() {
  local name pid
  for name in "${!SCHED_PIDS[@]}"; do
    [[ $name == bench-sched-* ]] && kill -TERM "${SCHED_PIDS[$name]}" 2>/dev/null
  done
  for name in "${!SCHED_PIDS[@]}"; do
    [[ $name == bench-sched-* ]] || continue
    wait "${SCHED_PIDS[$name]}" 2>/dev/null || true
    unset "SCHED_PIDS[$name]"
  done
  for name in coordinator cache-server; do
    pid=${SCHED_PIDS[$name]:-}
    if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    unset "SCHED_PIDS[$name]"
  done
  return 0
}

sched_build() {   # sched_build CTX [ARGS...]: a build on the farm over TCP
  local ctx=$1; shift
  "$SNAP/bin/stagefarm" build --coordinator "$SCHED_COORD" --insecure-registry "$REGISTRY" "$@" "$ctx"
}

# ---- fairness -------------------------------------------------------------------------------
fair_tokens() {   # fair_tokens FILE
  t() { printf '{"name": "%s", "team": "%s", "scopes": [%s], "sha256": "%s"}' "$1" "$2" "$3" \
    "$(printf '%s' "$4" | sha256sum | cut -d' ' -f1)"; }
  printf '{"tokens": [%s, %s, %s], "teams": {"team-a": {"weight": 1}, "team-b": {"weight": 1}}}\n' \
    "$(t farm ops '"read","write","farm"' "$FAIR_FARM")" \
    "$(t alice team-a '"read","write"' "$FAIR_A")" \
    "$(t bob team-b '"read","write"' "$FAIR_B")" > "$1"
}

fair_contexts() {
  local s
  mkdir -p "$WORK/fair-a" "$WORK/fair-b"
  {
    for s in a b c; do printf 'FROM busybox AS %s\nARG NONCE\nRUN echo "$NONCE" > /n && sleep 3\n\n' "$s"; done
    printf 'FROM busybox\nCOPY --from=a /n /a\nCOPY --from=b /n /b\nCOPY --from=c /n /c\n'
  } > "$WORK/fair-a/Dockerfile"
  printf 'FROM busybox\nARG NONCE\nRUN echo "$NONCE" && sleep 1\n' > "$WORK/fair-b/Dockerfile"
}

# B's wait against the bound, from the run's metadata and B's rawjson: prints one table row.
fair_check() {   # fair_check RUN DIR LOAD
  local i=$1 dir=$2 load=$3 waited b_start enq remaining bound f ok spans backlog
  waited=$(jq -r 'select(.type == "queue" and .state == "dispatched") | .waited_millis' "$dir/b.json" | tail -1)
  [ -n "$waited" ] || die "fair run $i: B's progress has no dispatched queue event ($dir/b.json)"
  b_start=$(epoch_of "$(jq -r '.["stagefarm.stages"][0].startedAt' "$dir/b.meta.json")")
  enq=$(awk -v s="$b_start" -v w="$waited" 'BEGIN { printf "%.3f", s - w / 1000 }')
  spans=$(for f in "$dir"/a-*.meta.json; do
      jq -r '.["stagefarm.stages"][] | select(.cached | not) | "\(.startedAt) \(.finishedAt)"' "$f"
    done | while read -r s e; do echo "$(epoch_of "$s") $(epoch_of "$e")"; done)
  # the remaining time of the A job that, of those running when B was queued, ends first
  remaining=$(awk -v t="$enq" '$1 <= t && t < $2 { r = $2 - t; if (min == "" || r < min) min = r }
                       END { if (min == "") print "none"; else printf "%.3f", min }' <<<"$spans")
  # A's jobs that had not started yet: the backlog B would wait behind without fair share
  backlog=$(awk -v t="$enq" '$1 > t { n++ } END { print n + 0 }' <<<"$spans")
  if [ "$remaining" = none ]; then
    bound=none; ok="n/a (no A job ran when B was queued)"
  else
    bound=$(awk -v r="$remaining" 'BEGIN { printf "%.3f", r + 0.2 }')
    ok=$(awk -v w="$waited" -v b="$bound" 'BEGIN { print (w / 1000 <= b ? "yes" : "**no**") }')
  fi
  FAIR_ROWS+="| $i | $(awk -v w="$waited" 'BEGIN { printf "%.2f", w / 1000 }') | $remaining | $bound | $ok | $backlog | $load |"$'\n'
  printf '  fair run %d  B waited %.2f s behind %d queued A jobs; earliest running A job had %s s left; bound %s s: %s  (load %s)\n' \
    "$i" "$(awk -v w="$waited" 'BEGIN { print w / 1000 }')" "$backlog" "$remaining" "$bound" "$ok" "$load"
}

run_fair() {
  local i k dir pids=() load offset
  fair_tokens "$WORK/fair-tokens.json"
  fair_contexts
  sched_farm_start 2 1 "$WORK/fair-tokens.json"
  log "fair: warming up (busybox pulled on both workers, not timed)"
  for k in 1 2; do
    sched_build "$WORK/fair-b" --token "$FAIR_B" --build-arg "NONCE=warm-$k-$RANDOM" > "$LOGS/farm-fair-warmup-$k.log" 2>&1 &
    pids+=($!)
  done
  for k in "${pids[@]}"; do wait "$k" || die "fair warm-up build failed (logs $LOGS/farm-fair-warmup-*.log)"; done
  for i in $(seq 1 "$FARM_RUNS"); do
    dir=$WORK/fair-$i; mkdir -p "$dir"; pids=()
    load=$(farm_load)
    for k in $(seq 1 10); do
      sched_build "$WORK/fair-a" --token "$FAIR_A" --progress=plain --build-arg "NONCE=a-$i-$k-$EPOCHREALTIME" \
        --metadata-file "$dir/a-$k.meta.json" > "$LOGS/farm-fair-$i-a$k.log" 2>&1 &
      pids+=($!)
    done
    # B arrives while both slots run A's jobs and A's backlog waits, at a different point of a
    # running job in each run
    for _ in $(seq 1 600); do
      [ "$(cat "$LOGS"/farm-fair-"$i"-a*.log | grep -c 'RUN echo .*(on bench-sched-')" -ge 2 ] && break
      sleep 0.1
    done
    offset=$(awk -v i="$i" 'BEGIN { printf "%.1f", 0.4 + (i - 1) % 3 * 0.9 }')
    sleep "$offset"
    sched_build "$WORK/fair-b" --token "$FAIR_B" --progress=rawjson --build-arg "NONCE=b-$i-$EPOCHREALTIME" \
      --metadata-file "$dir/b.meta.json" > "$dir/b.json" 2> "$LOGS/farm-fair-$i-b.stderr.log" \
      || die "fair run $i: B's build failed ($dir/b.json, $LOGS/farm-fair-$i-b.stderr.log)"
    cp "$dir/b.json" "$LOGS/farm-fair-$i-b.rawjson.log"
    for k in "${pids[@]}"; do wait "$k" || die "fair run $i: one of A's builds failed (logs $LOGS/farm-fair-$i-a*.log)"; done
    fair_check "$i" "$dir" "$load"
  done
  sched_farm_stop
}

# ---- many builds ----------------------------------------------------------------------------
MANY_BUILDS=20
MANY_CLIENTS=4
MANY_SLOTS=6   # 3 workers x 2 slots
# seconds of sleep in each Dockerfile: one 2 s stage; two 1 s stages in a chain; three 1 s stages in
# parallel (and a final stage without sleep); and the sleep on each one's critical path
MANY_WORK=(2 2 3)
MANY_PATH=(2 2 1)

many_contexts() {
  mkdir -p "$WORK/many-0" "$WORK/many-1" "$WORK/many-2"
  printf 'FROM busybox\nARG N\nRUN sleep 2 && echo "one $N" > /result\n' > "$WORK/many-0/Dockerfile"
  printf '%s\n' 'FROM busybox AS gen' 'ARG N' 'RUN sleep 1 && echo "$N" > /n' '' 'FROM busybox' \
    'COPY --from=gen /n /n' 'RUN sleep 1 && echo "two $(cat /n)" > /result' > "$WORK/many-1/Dockerfile"
  {
    for s in a b c; do printf 'FROM busybox AS %s\nARG N\nRUN sleep 1 && echo "%s$N" > /p\n\n' "$s" "$s"; done
    printf '%s\n' 'FROM busybox' 'COPY --from=a /p /a' 'COPY --from=b /p /b' 'COPY --from=c /p /c' \
      'RUN echo "three $(cat /a) $(cat /b) $(cat /c)" > /result'
  } > "$WORK/many-2/Dockerfile"
}

many_expected() {   # many_expected KIND NONCE
  case $1 in 0) echo "one $2" ;; 1) echo "two $2" ;; 2) echo "three a$2 b$2 c$2" ;; esac
}

many_one() {   # many_one SIDE RUN K: one build, its result checked
  local side=$1 i=$2 k=$3 kind=$(( $3 % 3 )) nonce out
  nonce=r$i-k$k-$side-${EPOCHREALTIME/./}
  out=$WORK/many-out/$side-$i-$k
  rm -rf "$out"
  case $side in
    stagefarm) sched_build "$WORK/many-$kind" --progress=plain --build-arg "N=$nonce" --output "type=local,dest=$out" ;;
    buildkit) "$DOCKER" build --progress=plain --network=none --build-arg "N=$nonce" -o "type=local,dest=$out" "$WORK/many-$kind" ;;
  esac > "$LOGS/farm-many-$i-$side-$k.log" 2>&1 || { echo "build $k failed (log $LOGS/farm-many-$i-$side-$k.log)"; return 1; }
  [ "$(cat "$out/result" 2>/dev/null)" = "$(many_expected "$kind" "$nonce")" ] \
    || { echo "build $k: /result is '$(cat "$out/result" 2>/dev/null)', not '$(many_expected "$kind" "$nonce")'"; return 1; }
}

many_client() {   # many_client SIDE RUN C: the builds k = C, C+4, ... one after the other
  local k
  for (( k = $3; k < MANY_BUILDS; k += MANY_CLIENTS )); do many_one "$1" "$2" "$k" || return 1; done
}

many_round() {   # many_round SIDE RUN: prints the wall seconds of 20 builds from 4 clients
  local c pids=() t0 bad=0
  t0=$(date +%s.%N)
  for (( c = 0; c < MANY_CLIENTS; c++ )); do many_client "$1" "$2" "$c" >> "$WORK/many-errors" 2>&1 & pids+=($!); done
  for c in "${pids[@]}"; do wait "$c" || bad=1; done
  [ "$bad" = 0 ] || { cat "$WORK/many-errors" >&2; die "many run $2, $1: a build failed or made a wrong image"; }
  seconds_between "$t0" "$(date +%s.%N)"
}

run_many() {
  local i side order secs load work=0 k c path
  many_contexts
  for (( k = 0; k < MANY_BUILDS; k++ )); do work=$(( work + MANY_WORK[k % 3] )); done
  # a client runs its builds one after another: no schedule beats its longest sum of critical paths
  MANY_CLIENT_PATH=0
  for (( c = 0; c < MANY_CLIENTS; c++ )); do
    path=0
    for (( k = c; k < MANY_BUILDS; k += MANY_CLIENTS )); do path=$(( path + MANY_PATH[k % 3] )); done
    (( path > MANY_CLIENT_PATH )) && MANY_CLIENT_PATH=$path
  done
  MANY_BOUND=$(awk -v w="$work" -v s="$MANY_SLOTS" 'BEGIN { printf "%.2f", w / s }')
  MANY_WORK_TOTAL=$work
  sched_farm_start 3 2
  log "many: warming up (one build of each Dockerfile per side, not timed)"
  for side in stagefarm buildkit; do
    for k in 0 1 2; do many_one "$side" 0 "$k" >&2 || die "many warm-up failed on $side"; done
  done
  for i in $(seq 1 "$FARM_RUNS"); do
    if (( i % 2 )); then order=(stagefarm buildkit); else order=(buildkit stagefarm); fi
    for side in "${order[@]}"; do
      sync
      load=$(farm_load)
      secs=$(many_round "$side" "$i")
      FARM_TIMES[many,$side]+="$secs "
      printf '  many run %d  %-9s %6.2f s for %d builds, all %d results right; work / slots %s s  (load average before: %s)\n' \
        "$i" "$side" "$secs" "$MANY_BUILDS" "$MANY_BUILDS" "$MANY_BOUND" "$load"
    done
  done
  sched_farm_stop
}

# ---- the report ---------------------------------------------------------------------------
farm_report() {
  local sf bk
  read -r -a sf <<<"$(stats "${FARM_TIMES[wide,stagefarm]}")"
  read -r -a bk <<<"$(stats "${FARM_TIMES[wide,buildkit]}")"
  echo "## Wide graph: 8 × \`RUN sleep 2\` + a final stage copying from all 8 (critical path 2 s)"
  echo
  echo "| builder | median s | min | max | median over the 2 s path |"
  echo "|---|---:|---:|---:|---:|"
  echo "| stagefarm, local farm, 4 workers × 2 slots | ${sf[0]} | ${sf[1]} | ${sf[2]} | $(awk -v a="${sf[0]}" 'BEGIN { printf "%.2f", a - 2 }') |"
  echo "| BuildKit (dockerd 20.10) | ${bk[0]} | ${bk[1]} | ${bk[2]} | $(awk -v a="${bk[0]}" 'BEGIN { printf "%.2f", a - 2 }') |"
  echo
  echo "stagefarm's overhead / BuildKit's (medians): $(awk -v a="${sf[0]}" -v b="${bk[0]}" 'BEGIN { printf "%.2f", (a - 2) / (b - 2) }')"
  echo
  echo "## Fairness: 10 builds of team A (3 × \`sleep 3\` + a COPY stage each), then one of team B (\`sleep 1\`), 2 workers × 1 slot"
  echo
  echo "| run | B's queue wait s | earliest running A job's remaining s | bound (+ 0.2) s | met | A's jobs not yet started when B was queued | load average |"
  echo "|---:|---:|---:|---:|---|---:|---:|"
  printf '%s' "$FAIR_ROWS"
  echo
  read -r -a sf <<<"$(stats "${FARM_TIMES[many,stagefarm]}")"
  read -r -a bk <<<"$(stats "${FARM_TIMES[many,buildkit]}")"
  echo "## Many builds: $MANY_BUILDS builds of 3 Dockerfiles from $MANY_CLIENTS clients at once, 3 workers × 2 slots"
  echo
  echo "Work: $MANY_WORK_TOTAL s of \`sleep\` in all; over $MANY_SLOTS slots $MANY_BOUND s. Each client runs its builds one"
  echo "after another; the longest client's critical paths add up to $MANY_CLIENT_PATH s of \`sleep\`. Every build's \`/result\` checked."
  echo
  echo "| builder | median s | min | max | median / (work / slots) |"
  echo "|---|---:|---:|---:|---:|"
  echo "| stagefarm, farm over TCP | ${sf[0]} | ${sf[1]} | ${sf[2]} | $(awk -v a="${sf[0]}" -v b="$MANY_BOUND" 'BEGIN { printf "%.2f", a / b }') |"
  echo "| BuildKit (no slot limit) | ${bk[0]} | ${bk[1]} | ${bk[2]} | $(awk -v a="${bk[0]}" -v b="$MANY_BOUND" 'BEGIN { printf "%.2f", a / b }') |"
  echo
  echo "stagefarm / BuildKit (medians): $(awk -v a="${sf[0]}" -v b="${bk[0]}" 'BEGIN { printf "%.2f", a / b }')"
  echo
  echo "Raw wall times, s, in run order: wide stagefarm ${FARM_TIMES[wide,stagefarm]% }; wide BuildKit ${FARM_TIMES[wide,buildkit]% }; many stagefarm ${FARM_TIMES[many,stagefarm]% }; many BuildKit ${FARM_TIMES[many,buildkit]% }"
}

run_farm_section() {
  local load_start t0
  [[ $FARM_RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_FARM_RUNS must be a positive integer, not '$FARM_RUNS'"
  load_start=$(cut -d' ' -f1-3 /proc/loadavg)
  t0=$(date +%s.%N)
  mkdir -p -m 0700 "$WORK/xdg" "$WORK/many-out"
  export XDG_RUNTIME_DIR=$WORK/xdg   # the bench's own resident client, stopped at the end
  ensure_busybox
  run_wide
  run_fair
  run_many
  {
    echo "# A shared farm: wide graph, fairness, many builds (issue 12)"
    echo
    farm_report
    echo
    echo "- $(date -u '+%Y-%m-%d %H:%M UTC'), $FARM_RUNS runs each, total wall time $(seconds_between "$t0" "$(date +%s.%N)") s"
    echo "- load average at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- stagefarm $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'), $("$SNAP/bin/stagefarm" --version)"
    echo "- $("$DOCKER" version --format 'docker client {{.Client.Version}}, dockerd {{.Server.Version}}')"
    echo "- $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r)"
  } > "$RESULTS/farm.md"
  echo
  farm_report
  client_daemon_stop
}
