#!/usr/bin/env bash
# The whole test suite, from a clean clone: installs what is missing, starts the real services
# (Kafka from Maven Central jars, and checks Redis and MariaDB), type-checks, runs every test.
# Usage: npm test [-- vitest args]
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  npm ci --no-audit --no-fund
fi

if [ -f scripts/install-confluent.sh ]; then
  step "@confluentinc/kafka-javascript (native build, cached after the first run)"
  bash scripts/install-confluent.sh
fi

step "services: Kafka, Redis, MariaDB"
eval "$(bash scripts/services.sh up)"

step "peers: Prometheus and node-exporter (Debian packages)"
bash scripts/install-peers.sh

step "type check"
npx tsc -p tsconfig.json --noEmit

step "tests"
npx vitest run --reporter=default --reporter=./test/support/summary-reporter.ts "$@"
