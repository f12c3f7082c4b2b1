# shellcheck shell=bash
# A single-node KRaft Kafka broker from Maven Central jars, for tests and development (no Docker).
# Sourced by scripts/services.sh, which defines REPO_ROOT and die().
#
# Verified on the dev machine (Debian 12, OpenJDK 17.0.15, Maven 3.8.7, 2 cores), Kafka 4.1.1:
# - `mvn dependency:copy-dependencies -DincludeScope=runtime` on test/services/kafka/pom.xml fetches
#   46 jars (43 MB) in ~6 s with a warm ~/.m2; the broker runs on Java 17 (4.x requires >= 17).
# - Main classes: `kafka.Kafka <server.properties>` (broker) and `kafka.tools.StorageTool`
#   (`random-uuid`, `format -t <id> -c <props> --ignore-formatted`, idempotent: it says "All of the
#   log directories are already formatted" and exits 0). Each StorageTool call costs ~1 s of JVM start,
#   so the warm path skips it when meta.properties exists.
# - With a static quorum (controller.quorum.voters) `format` needs no --standalone.
# - The broker is up (STARTED in its log) ~3 s after launch on this machine; readiness is still
#   judged by a metadata request, since the process exists long before it can answer.
# - kafkajs 2.2.4 talks to 4.1.1 (produce acks=all idempotent, group consume, commit, offsets by
#   timestamp) despite 4.0 dropping old protocol versions: kafkajs' maximum versions are all still
#   supported.

KAFKA_VERSION="${WEIR_KAFKA_VERSION:-4.1.1}"
KAFKA_PORT="${WEIR_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${WEIR_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_HOME="${WEIR_CACHE_DIR:-${HOME:-/tmp}/.cache/weir}/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
# One run directory per port, so two checkouts on different ports never share data or a pid file.
KAFKA_RUN="$KAFKA_HOME/run-$KAFKA_PORT"
KAFKA_DATA="$KAFKA_RUN/data"
KAFKA_PROPS="$KAFKA_RUN/server.properties"
KAFKA_PID_FILE="$KAFKA_RUN/kafka.pid"
KAFKA_LOG="$KAFKA_RUN/kafka.log"
KAFKA_READY_TIMEOUT="${WEIR_KAFKA_READY_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${WEIR_KAFKA_STOP_TIMEOUT:-30}"
KAFKA_SERVICE_DIR="$REPO_ROOT/test/services/kafka"

kafka_brokers() { echo "127.0.0.1:$KAFKA_PORT"; }

# Something (ours or not) accepts TCP connections on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

kafka_require_tools() {
  command -v java >/dev/null || die "java not found: Kafka $KAFKA_VERSION needs a JDK (apt-get install -y openjdk-17-jdk-headless)"
  local major
  major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)"
  if [[ "$KAFKA_VERSION" == 4.* && "${major:-0}" -lt 17 ]]; then
    die "Kafka $KAFKA_VERSION needs Java >= 17, found Java ${major:-unknown} (or set WEIR_KAFKA_VERSION=3.9.2)"
  fi
  command -v node >/dev/null || die "node not found: the readiness probe is a node script"
  [[ -d "$REPO_ROOT/node_modules/kafkajs" ]] || die "kafkajs is not installed: run 'npm install' in $REPO_ROOT first"
}

# Fetch the broker jars once; later runs reuse them. Fetched into a scratch directory and renamed, so an
# interrupted download never leaves a half-filled libs/ that would be taken as complete.
kafka_fetch() {
  [[ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]] && return 0
  command -v mvn >/dev/null || die "mvn not found: it fetches Kafka from Maven Central (apt-get install -y maven)"
  echo "services.sh: fetching Kafka $KAFKA_VERSION from Maven Central into $KAFKA_LIBS (first run only)" >&2
  local partial="$KAFKA_HOME/libs.partial.$$" mvn_log="$KAFKA_HOME/fetch.log"
  mkdir -p "$KAFKA_HOME"
  rm -rf "$partial"
  if ! mvn -B -q -f "$KAFKA_SERVICE_DIR/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$partial" -Dkafka.version="$KAFKA_VERSION" >"$mvn_log" 2>&1; then
    rm -rf "$partial"
    tail -n 30 "$mvn_log" >&2
    die "could not fetch Kafka $KAFKA_VERSION with Maven (full output: $mvn_log)"
  fi
  [[ -f "$partial/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "Maven finished but kafka_2.13-$KAFKA_VERSION.jar is missing from $partial"
  rm -rf "$KAFKA_LIBS"
  mv "$partial" "$KAFKA_LIBS"
}

kafka_java() {
  java -cp "$KAFKA_LIBS/*" -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_SERVICE_DIR/log4j2.properties" "$@"
}

kafka_render_config() {
  mkdir -p "$KAFKA_DATA"
  sed -e "s|@PORT@|$KAFKA_PORT|g" -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$KAFKA_DATA|g" \
    "$KAFKA_SERVICE_DIR/server.properties.template" >"$KAFKA_PROPS"
}

# Format the data directory once. The cluster id is kept beside it so a re-format after a partial
# failure uses the same id as anything already written.
kafka_format() {
  [[ -f "$KAFKA_DATA/meta.properties" ]] && return 0
  local id_file="$KAFKA_RUN/cluster-id" out
  if [[ ! -s "$id_file" ]]; then
    kafka_java -Dweir.kafka.log.level=WARN kafka.tools.StorageTool random-uuid >"$id_file.tmp" 2>/dev/null ||
      die "kafka.tools.StorageTool random-uuid failed"
    mv "$id_file.tmp" "$id_file"
  fi
  if ! out="$(kafka_java -Dweir.kafka.log.level=WARN kafka.tools.StorageTool format \
    -t "$(cat "$id_file")" -c "$KAFKA_PROPS" --ignore-formatted 2>&1)"; then
    echo "$out" >&2
    die "could not format Kafka storage in $KAFKA_DATA"
  fi
}

# The pid of the broker this script started, if it is still running. The command line is checked
# too, so a pid recycled by an unrelated process is never signalled.
kafka_pid() {
  [[ -f "$KAFKA_PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$KAFKA_PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $KAFKA_PROPS" || return 1
  echo "$pid"
}

kafka_probe() { node "$REPO_ROOT/scripts/lib/kafka-ready.mjs" "$(kafka_brokers)" >/dev/null 2>&1; }

kafka_fail_with_log() {
  echo "---- last lines of $KAFKA_LOG ----" >&2
  tail -n 40 "$KAFKA_LOG" >&2 || true
  die "$1"
}

kafka_wait_ready() {
  local pid="$1" deadline=$((SECONDS + KAFKA_READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    [[ -d "/proc/$pid" ]] || kafka_fail_with_log "Kafka (pid $pid) exited during startup"
    kafka_probe && return 0
    sleep 0.5
  done
  kafka_fail_with_log "Kafka did not answer a metadata request on $(kafka_brokers) within ${KAFKA_READY_TIMEOUT}s"
}

kafka_start() {
  # Keep the previous run's log for debugging a crash that made you restart.
  [[ -f "$KAFKA_LOG" ]] && mv -f "$KAFKA_LOG" "$KAFKA_LOG.1"
  # setsid: the broker must outlive the caller (a test runner restarting it) and not get the caller's
  # signals. All output goes to the log: an inherited stdout pipe would keep the caller waiting forever.
  setsid java -Xmx512m -Xms256m -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_SERVICE_DIR/log4j2.properties" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS" </dev/null >"$KAFKA_LOG" 2>&1 &
  echo $! >"$KAFKA_PID_FILE"
}

kafka_up() {
  kafka_require_tools
  local pid
  if pid="$(kafka_pid)"; then
    kafka_wait_ready "$pid"
    return 0
  fi
  rm -f "$KAFKA_PID_FILE"
  local port
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    port_in_use "$port" && die "127.0.0.1:$port is in use by a process services.sh did not start (another Kafka? docker compose?); stop it or set WEIR_KAFKA_PORT / WEIR_KAFKA_CONTROLLER_PORT"
  done
  kafka_fetch
  kafka_render_config
  kafka_format
  kafka_start
  kafka_wait_ready "$(cat "$KAFKA_PID_FILE")"
}

kafka_down() {
  local pid
  if ! pid="$(kafka_pid)"; then
    rm -f "$KAFKA_PID_FILE"
    return 0
  fi
  kill -TERM "$pid"
  # A single node shuts down in a few seconds (it flushes logs and writes a clean-shutdown marker).
  local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
  while [[ -d "/proc/$pid" ]] && ((SECONDS < deadline)); do sleep 0.2; done
  if [[ -d "/proc/$pid" ]]; then
    echo "services.sh: Kafka (pid $pid) ignored SIGTERM for ${KAFKA_STOP_TIMEOUT}s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while [[ -d "/proc/$pid" ]]; do sleep 0.2; done
  fi
  rm -f "$KAFKA_PID_FILE"
}

kafka_status() {
  local pid
  if pid="$(kafka_pid)"; then
    if kafka_probe; then
      printf '%-8s %-12s %s (pid %s, Kafka %s, log %s)\n' kafka running "$(kafka_brokers)" "$pid" "$KAFKA_VERSION" "$KAFKA_LOG"
      return 0
    fi
    printf '%-8s %-12s %s (pid %s, not answering yet; log %s)\n' kafka starting "$(kafka_brokers)" "$pid" "$KAFKA_LOG"
    return 1
  fi
  if port_in_use "$KAFKA_PORT"; then
    printf '%-8s %-12s %s (a process services.sh did not start)\n' kafka foreign "$(kafka_brokers)"
    return 1
  fi
  printf '%-8s %-12s %s\n' kafka stopped "$(kafka_brokers)"
  return 1
}
