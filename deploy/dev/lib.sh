# shellcheck shell=bash
# Shared helpers for the dev scripts. Source it; it defines functions and a few variables only.
#   STAGEFARM_ROOT   the repository root
#   STAGEFARM_STATE  where dev state lives (/var/lib/stagefarm-dev unless overridden)

STAGEFARM_ROOT=${STAGEFARM_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)}
STAGEFARM_STATE=${STAGEFARM_STATE:-/var/lib/stagefarm-dev}
STAGEFARM_MIN_JAVA=25

sf_log()  { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
sf_die()  { printf '[%s] ERROR: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# Major version of the JDK at $1 (a JAVA_HOME), or nothing if it is not a usable JDK.
sf_jdk_major() {
  local home=$1 v=""
  [ -x "$home/bin/java" ] || return 0
  if [ -r "$home/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$home/release")
  fi
  if [ -z "$v" ]; then
    v=$("$home/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
  fi
  v=${v#1.}            # 1.8 -> 8
  printf '%s\n' "${v%%[.+-]*}"
}

# Prints a JAVA_HOME with Java >= 25: $JAVA_HOME if good enough, else the newest under /usr/lib/jvm.
sf_find_jdk() {
  local m best="" bestm=0 d
  if [ -n "${JAVA_HOME:-}" ]; then
    m=$(sf_jdk_major "$JAVA_HOME")
    if [ -n "$m" ] && [ "$m" -ge "$STAGEFARM_MIN_JAVA" ] 2>/dev/null; then
      printf '%s\n' "$JAVA_HOME"; return 0
    fi
  fi
  for d in /usr/lib/jvm/*/; do
    d=${d%/}
    m=$(sf_jdk_major "$d")
    case $m in ""|*[!0-9]*) continue ;; esac
    if [ "$m" -ge "$STAGEFARM_MIN_JAVA" ] && [ "$m" -gt "$bestm" ]; then best=$d; bestm=$m; fi
  done
  [ -n "$best" ] || return 1
  printf '%s\n' "$best"
}

sf_export_java_home() {
  local jh
  jh=$(sf_find_jdk) || sf_die "no JDK >= $STAGEFARM_MIN_JAVA found (JAVA_HOME=${JAVA_HOME:-unset}, /usr/lib/jvm/*); install one, e.g. Temurin 25"
  export JAVA_HOME=$jh
  case ":$PATH:" in *":$JAVA_HOME/bin:"*) ;; *) export PATH="$JAVA_HOME/bin:$PATH" ;; esac
}

# The Debian archive mirror this machine's apt uses for suite $1 (default bookworm), e.g.
# http://<host>/debian. Read at run time from /etc/apt (deb822 *.sources or classic *.list),
# so no mirror host name lives in this repository. STAGEFARM_DEBIAN_MIRROR overrides.
sf_debian_mirror() {
  local suite=${1:-bookworm} f uri=""
  if [ -n "${STAGEFARM_DEBIAN_MIRROR:-}" ]; then printf '%s\n' "$STAGEFARM_DEBIAN_MIRROR"; return 0; fi
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    # deb822: stanzas separated by blank lines; want Types: deb and the exact suite.
    uri=$(awk -v suite="$suite" '
      function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uris != "" && enabled != "no") { split(uris, u, " "); print u[1]; found=1; exit } types=suites=uris=""; enabled="" }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      { key=tolower($1); sub(/^[^:]*:[ \t]*/, ""); val=$0 }
      key=="types:"   { types=val }
      key=="suites:"  { suites=val }
      key=="uris:"    { uris=val }
      key=="enabled:" { enabled=tolower(val) }
      END { if (!found) flush() }' "$f")
    [ -n "$uri" ] && break
  done
  if [ -z "$uri" ]; then
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -r "$f" ] || continue
      # deb [opts] URI SUITE COMPONENTS...
      uri=$(awk -v suite="$suite" '
        $1=="deb" { i=2; if ($2 ~ /^\[/) { while (i<=NF && $i !~ /\]$/) i++; i++ }
                    if ($(i+1)==suite) { print $i; exit } }' "$f")
      [ -n "$uri" ] && break
    done
  fi
  [ -n "$uri" ] || return 1
  printf '%s\n' "${uri%/}"
}

# apt-get install of the named packages that are not installed yet; apt-get update once.
sf_apt_ensure() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || sf_die "need root to install: ${missing[*]}"
  sf_log "installing: ${missing[*]}"
  if [ -z "${SF_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null || sf_die "apt-get update failed"
    SF_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || sf_die "apt-get install ${missing[*]} failed"
}
