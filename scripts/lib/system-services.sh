# shellcheck shell=bash
# Redis and MariaDB: machine services (Debian packages), normally already running. services.sh only
# checks that they answer and starts them if not; it never stops them, since it does not own them.
# Sourced by scripts/services.sh, which defines die().

REDIS_PORT=6379
MARIADB_PORT=3306
SYSTEM_READY_TIMEOUT="${WEIR_SERVICES_READY_TIMEOUT:-30}"

redis_ping() {
  command -v redis-cli >/dev/null || return 1
  [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
}

mariadb_client() {
  if command -v mariadb >/dev/null; then echo mariadb; elif command -v mysql >/dev/null; then echo mysql; else return 1; fi
}

# Over TCP, as the tests connect: root@127.0.0.1 has no password on the dev machine and in CI.
mariadb_ping() {
  local client
  client="$(mariadb_client)" || return 1
  "$client" -uroot -h127.0.0.1 -P"$MARIADB_PORT" -e 'select 1' >/dev/null 2>&1
}

# Poll $1 (a function) until it succeeds; $2 names the service in the error.
wait_until() {
  local check="$1" name="$2" deadline=$((SECONDS + SYSTEM_READY_TIMEOUT))
  while ! "$check"; do
    ((SECONDS < deadline)) || die "$name did not answer within ${SYSTEM_READY_TIMEOUT}s after starting it"
    sleep 0.5
  done
}

redis_up() {
  redis_ping && return 0
  command -v redis-server >/dev/null || die "Redis is not running and redis-server is not installed (apt-get install -y redis-server)"
  command -v redis-cli >/dev/null || die "redis-cli not found (apt-get install -y redis-tools)"
  # The package creates these; make sure a trimmed image still has them, or redis-server refuses to start.
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log ||
    die "redis-server failed to start (see /var/log/redis/ci.log)"
  wait_until redis_ping "Redis on 127.0.0.1:$REDIS_PORT"
}

mariadb_up() {
  mariadb_ping && return 0
  [[ -x /usr/sbin/mariadbd ]] || die "MariaDB is not running and /usr/sbin/mariadbd is not installed (apt-get install -y mariadb-server)"
  mariadb_client >/dev/null || die "no mariadb/mysql client found (apt-get install -y mariadb-client)"
  # /run is a tmpfs: the socket directory that Debian's unit creates before each start may be gone.
  if [[ ! -d /run/mysqld ]]; then install -d -m 755 -o mysql -g root /run/mysqld 2>/dev/null || mkdir -p /run/mysqld; fi
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd ||
    die "start-stop-daemon could not start /usr/sbin/mariadbd"
  wait_until mariadb_ping "MariaDB on 127.0.0.1:$MARIADB_PORT"
}

redis_status() {
  if redis_ping; then
    printf '%-8s %-12s %s\n' redis running "127.0.0.1:$REDIS_PORT"
  else
    printf '%-8s %-12s %s\n' redis stopped "127.0.0.1:$REDIS_PORT"
    return 1
  fi
}

mariadb_status() {
  if mariadb_ping; then
    printf '%-8s %-12s %s\n' mariadb running "127.0.0.1:$MARIADB_PORT"
  else
    printf '%-8s %-12s %s\n' mariadb stopped "127.0.0.1:$MARIADB_PORT"
    return 1
  fi
}
