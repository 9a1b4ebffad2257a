# Shared by the benchmark scripts (source it from the repository's root, after hack/jdk.sh): the run's results
# folder, the build, JVM options, starting processes with their logs, stopping every one of them on exit (also
# on Ctrl-C, TERM and failure), and bounded readiness waits.

new_results() { # name: sets $results to a new bench/results/<name>-<time> folder.
  results=bench/results/$1-$(date +%Y%m%d-%H%M%S)
  mkdir -p "$results"
  echo "==> results and logs in $results"
}

build_modules() { # modules (comma-separated): packages them and what they need, offline first; LODESTAR_SKIP_BUILD=1 skips.
  [ "${LODESTAR_SKIP_BUILD:-0}" = 1 ] && return 0
  echo "==> building $1"
  if ! ./mvnw -B -o -q package -DskipTests -pl "$1" -am > "$results/build.log" 2>&1 &&
     ! ./mvnw -B -q package -DskipTests -pl "$1" -am > "$results/build.log" 2>&1; then
    tail -n 40 "$results/build.log" >&2
    echo "error: the build failed; full log in $results/build.log" >&2
    exit 1
  fi
}

# Quiet the JDK's notices about libraries' use of Unsafe and native access.
java_opts=(--enable-native-access=ALL-UNNAMED)
if java --sun-misc-unsafe-memory-access=allow -version >/dev/null 2>&1; then
  java_opts+=(--sun-misc-unsafe-memory-access=allow)
fi

pids=()
start() { # log, command...: runs the command in the background, output to the log (created first, for tail).
  local log=$1
  shift
  : > "$log"
  "$@" > "$log" 2>&1 &
  pids+=($!)
}
stop_all() { # stops every started process, the last started first, and waits for them.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[$i]}" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
on_exit() {
  local status=$?
  trap - EXIT INT TERM
  stop_all
  if [ "$status" != 0 ]; then
    echo "==> stopped (exit $status); logs in $results" >&2
  fi
  exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_for() { # name pid log seconds command...: retries the command until it succeeds or the process exits.
  local name=$1 pid=$2 log=$3 seconds=$4
  shift 4
  for _ in $(seq 1 $((seconds * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      [ -f "$log" ] && tail -n 30 "$log" >&2
      echo "error: the $name exited; log above ($log)" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "error: the $name was not ready within $seconds s; see $log" >&2
  exit 1
}
