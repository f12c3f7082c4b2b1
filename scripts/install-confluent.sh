#!/usr/bin/env bash
# Make the optional @confluentinc/kafka-javascript usable (weir's 'confluent' Kafka adapter).
#
# Its install script downloads a prebuilt binary, which is not reachable here, then falls back to a
# source build that only works with CKJS_LINKING=dynamic (link librdkafka against the system's
# OpenSSL/zlib/zstd/lz4/SASL) and their -dev packages. On a 2-core machine the build takes about
# 1.5 minutes (measured: 90 s). Idempotent: exits at once when the module already loads.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PACKAGE=@confluentinc/kafka-javascript
DEV_PACKAGES=(libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev)
cd "$REPO_ROOT"

die() {
  echo "install-confluent.sh: $*" >&2
  exit 1
}

loads() { node -e "require('$PACKAGE')" >/dev/null 2>&1; }

loads && exit 0

missing=()
for pkg in "${DEV_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
  [[ $(id -u) -eq 0 ]] || die "missing ${missing[*]}: run as root, or apt-get install -y ${missing[*]}"
  # An image whose package lists were never fetched knows no packages: update once, then install.
  if ! apt-get install -y -q "${missing[@]}" >/tmp/weir-install-confluent-apt.log 2>&1; then
    apt-get update -q >>/tmp/weir-install-confluent-apt.log 2>&1 || true
    apt-get install -y -q "${missing[@]}" >>/tmp/weir-install-confluent-apt.log 2>&1 ||
      die "apt-get install ${missing[*]} failed (see /tmp/weir-install-confluent-apt.log)"
  fi
fi

started=$SECONDS
build_log=/tmp/weir-install-confluent-build.log
export CKJS_LINKING=dynamic
if [[ -f node_modules/$PACKAGE/package.json ]]; then
  # Present but not built (npm keeps an optional package whose build it skipped): build it in place.
  npm rebuild "$PACKAGE" >"$build_log" 2>&1 || { tail -n 40 "$build_log" >&2; die "npm rebuild $PACKAGE failed (full log: $build_log)"; }
else
  # npm removes an optional dependency whose build failed: install the version package.json asks for,
  # without touching package.json or the lockfile.
  range="$(node -p "require('./package.json').optionalDependencies['$PACKAGE']")"
  npm install --no-save "$PACKAGE@$range" >"$build_log" 2>&1 || { tail -n 40 "$build_log" >&2; die "npm install $PACKAGE failed (full log: $build_log)"; }
fi

loads || die "$PACKAGE was built but still does not load: node -e \"require('$PACKAGE')\" shows why"
echo "install-confluent.sh: built $PACKAGE in $((SECONDS - started))s" >&2
