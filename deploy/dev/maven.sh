#!/usr/bin/env bash
# Makes the Maven Wrapper usable and exports JAVA_HOME (a JDK >= 25).
#
#   deploy/dev/maven.sh            check/prepare, print JAVA_HOME
#   . deploy/dev/maven.sh          same, and keep JAVA_HOME/PATH in the calling shell
#
# ./mvnw is committed; .mvn/wrapper/maven-wrapper.properties is not (it names the Maven
# distribution's download address, which this repository keeps out of its files). When it is
# missing it is generated with the installed Maven (Debian's `maven` package, installed if
# `mvn` is absent) by the official maven-wrapper-plugin.

_sf_maven_setup() {
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P) || return 1
  # shellcheck source=deploy/dev/lib.sh
  source "$here/lib.sh" || return 1
  local jh root=$STAGEFARM_ROOT
  jh=$(sf_find_jdk) || { echo "[maven.sh] ERROR: no JDK >= $STAGEFARM_MIN_JAVA (JAVA_HOME=${JAVA_HOME:-unset}, /usr/lib/jvm/*)" >&2; return 1; }
  export JAVA_HOME=$jh
  case ":$PATH:" in *":$JAVA_HOME/bin:"*) ;; *) export PATH="$JAVA_HOME/bin:$PATH" ;; esac

  local props=$root/.mvn/wrapper/maven-wrapper.properties
  if [ ! -s "$props" ]; then
    if ! command -v mvn >/dev/null 2>&1; then
      ( sf_apt_ensure maven ) || return 1      # subshell: sf_die must not end a sourcing shell
    fi
    echo "[maven.sh] generating $props with $(command -v mvn)" >&2
    local had_cmd=0 backup
    [ -e "$root/mvnw.cmd" ] && had_cmd=1
    backup=$(mktemp) && cp -p "$root/mvnw" "$backup" 2>/dev/null
    # (the option only quiets JDK 25 warnings about the old Guice/Guava inside Debian's Maven 3.8)
    local out; out=$(mktemp)
    if ! ( cd "$root" && MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" \
        mvn -q -B -N org.apache.maven.plugins:maven-wrapper-plugin:3.3.4:wrapper \
        -Dmaven=3.9.16 -Dtype=only-script ) >"$out" 2>&1; then
      cat "$out" >&2; rm -f "$backup" "$out"
      echo "[maven.sh] ERROR: maven-wrapper-plugin failed" >&2; return 1
    fi
    rm -f "$out"
    # The plugin rewrites mvnw (identically) and adds mvnw.cmd; keep the committed tree as it was.
    if [ -s "$backup" ] && ! cmp -s "$backup" "$root/mvnw"; then
      echo "[maven.sh] note: the plugin's mvnw differs from the committed one; keeping the committed one" >&2
      cp -p "$backup" "$root/mvnw"
    fi
    rm -f "$backup"
    [ "$had_cmd" -eq 1 ] || rm -f "$root/mvnw.cmd"
    [ -s "$props" ] || { echo "[maven.sh] ERROR: $props was not written" >&2; return 1; }
  fi
  [ -x "$root/mvnw" ] || chmod +x "$root/mvnw"
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  _sf_maven_setup || return 1
else
  set -euo pipefail
  _sf_maven_setup
  echo "JAVA_HOME=$JAVA_HOME"
fi
