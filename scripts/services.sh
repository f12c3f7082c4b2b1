#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Real Kafka, Redis and MariaDB for weir's integration tests and local development, without Docker.
#
#   scripts/services.sh up [kafka|redis|mariadb ...]   start what is not running (default: all), wait
#                                                      until each answers, print the env exports
#   scripts/services.sh down [kafka]                   stop the Kafka broker this script started
#   scripts/services.sh status [service ...]           one line per service; exit 1 if any is not up
#   scripts/services.sh env                            print the env exports only
#
# Idempotent and quiet: `up` prints only the exports (so `eval "$(scripts/services.sh up)"` works) and
# one line on stderr when it has to download Kafka. Settings: see docs/services.md.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() {
  echo "services.sh: $*" >&2
  exit 1
}

# shellcheck source=lib/kafka.sh
source "$REPO_ROOT/scripts/lib/kafka.sh"
# shellcheck source=lib/system-services.sh
source "$REPO_ROOT/scripts/lib/system-services.sh"

ALL_SERVICES=(kafka redis mariadb)

print_env() {
  echo "export WEIR_KAFKA_BROKERS=$(kafka_brokers)"
  echo "export WEIR_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
  echo "export WEIR_MYSQL_URL=mysql://root@127.0.0.1:$MARIADB_PORT"
}

check_names() {
  local name
  for name in "$@"; do
    case "$name" in
      kafka | redis | mariadb) ;;
      *) die "unknown service '$name' (expected: ${ALL_SERVICES[*]})" ;;
    esac
  done
}

cmd="${1:-}"
if [[ $# -gt 0 ]]; then shift; fi
named=$#
services=("$@")
if [[ $named -eq 0 ]]; then services=("${ALL_SERVICES[@]}"); fi
check_names "${services[@]}"

case "$cmd" in
  up)
    for name in "${services[@]}"; do "${name}_up"; done
    print_env
    ;;
  down)
    for name in "${services[@]}"; do
      case "$name" in
        kafka) kafka_down ;;
        # Named explicitly: say why nothing happens rather than succeed silently.
        *) if [[ $named -gt 0 ]]; then echo "services.sh: $name is a machine service; left running" >&2; fi ;;
      esac
    done
    ;;
  status)
    failed=0
    for name in "${services[@]}"; do "${name}_status" || failed=1; done
    exit "$failed"
    ;;
  env)
    print_env
    ;;
  *)
    sed -n '3,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
