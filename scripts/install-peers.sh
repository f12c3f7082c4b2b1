#!/usr/bin/env bash
# The real peers of test/e2e/prometheus-peer.test.ts: Debian's Prometheus (2.42) and node-exporter.
# Idempotent and quiet: does nothing when both binaries are there (see lib/apt-binaries.sh).
# Timed on the dev machine (Debian 12, package lists present): 16 s to download and install, 10 s with
# the .debs already in apt's cache, 0.002 s when both are installed.
set -euo pipefail
# shellcheck source=lib/apt-binaries.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-binaries.sh"
install_debian_binaries install-peers.sh "prometheus prometheus-node-exporter" "/usr/bin/prometheus /usr/bin/prometheus-node-exporter"
