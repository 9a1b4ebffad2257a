#!/usr/bin/env bash
# Finds a JDK >= 21 and exports JAVA_HOME and PATH for it.
# Source it (`. hack/jdk.sh`) or run it (`hack/jdk.sh` prints the JAVA_HOME it picked).
# Order: $JAVA_HOME, then every JDK under /usr/lib/jvm (newest first).

lodestar_jdk_major() {
  # Prints the major version of the JDK at $1, or nothing when $1 is not a JDK.
  local home=$1 release version
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 1
  release="$home/release"
  if [ -f "$release" ]; then
    version=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$release")
  fi
  if [ -z "${version:-}" ]; then
    version=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
  fi
  version=${version#1.}
  printf '%s\n' "${version%%[.+-]*}"
}

lodestar_find_jdk() {
  local candidate major
  local -a candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if [ -d /usr/lib/jvm ]; then
    while IFS= read -r candidate; do candidates+=("$candidate"); done \
      < <(find /usr/lib/jvm -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort -rV)
  fi
  for candidate in "${candidates[@]}"; do
    major=$(lodestar_jdk_major "$candidate") || continue
    if [ -n "$major" ] && [ "$major" -ge 21 ] 2>/dev/null; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

if ! LODESTAR_JAVA_HOME=$(lodestar_find_jdk); then
  echo "error: Lodestar needs a JDK >= 21 (with javac). Looked at JAVA_HOME='${JAVA_HOME:-}' and /usr/lib/jvm/*." >&2
  echo "       Install one (e.g. Temurin 21 or 25) and set JAVA_HOME to it." >&2
  if [ "${BASH_SOURCE[0]}" != "$0" ]; then return 1; else exit 1; fi
fi
export JAVA_HOME=$LODESTAR_JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
# Quiets JDK 25 warnings from Maven's bundled Guava (harmless, see dependencies.md §0).
case " ${MAVEN_OPTS:-} " in
  *sun-misc-unsafe-memory-access*) ;;
  *) if [ "$(lodestar_jdk_major "$JAVA_HOME")" -ge 23 ]; then
       export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
     fi ;;
esac
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  printf '%s\n' "$JAVA_HOME"
fi
