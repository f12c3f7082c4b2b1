#!/usr/bin/env bash
# The benchmark's peer: Debian's vmagent (package victoria-metrics, 1.79), at /usr/bin/vmagent.
# Idempotent and quiet: does nothing when /usr/bin/vmagent is there (see lib/apt-binaries.sh; the
# package's victoria-metrics daemon is kept from starting).
set -euo pipefail
# shellcheck source=lib/apt-binaries.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-binaries.sh"
install_debian_binaries install-vmagent.sh "victoria-metrics" "/usr/bin/vmagent /usr/bin/victoria-metrics"
