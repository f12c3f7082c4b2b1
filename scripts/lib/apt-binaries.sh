# shellcheck shell=bash
# install_debian_binaries NAME "PACKAGES" "BINARIES": apt-get install PACKAGES unless every one of
# BINARIES is already there, without leaving the packages' daemons running. Tests and benchmarks run
# these binaries themselves (own flags, temp dirs, free ports on 127.0.0.1), so a policy-rc.d
# answering 101 keeps invoke-rc.d from starting services during the install, and the policy that
# was there before is restored after. A daemon of these binaries that was running before is not
# ours to touch; one that appears during the install (a maintainer script that bypasses
# invoke-rc.d) is stopped. Quiet on success; NAME prefixes error messages.
install_debian_binaries() {
  local name="$1" packages binaries
  read -r -a packages <<<"$2"
  read -r -a binaries <<<"$3"

  local binary missing=0
  for binary in "${binaries[@]}"; do [[ -x "$binary" ]] || missing=1; done
  ((missing)) || return 0

  die() {
    echo "$name: $*" >&2
    exit 1
  }
  ((EUID == 0)) || die "run as root to apt-get install ${packages[*]}"

  local policy=/usr/sbin/policy-rc.d saved_policy=""
  if [[ -e "$policy" ]]; then
    saved_policy="$(mktemp)"
    cp -p "$policy" "$saved_policy"
  fi
  # shellcheck disable=SC2064 # expand now: the trap must restore this policy file
  trap "if [[ -n '$saved_policy' ]]; then mv -f '$saved_policy' '$policy'; else rm -f '$policy'; fi" EXIT
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"

  daemon_pids() {
    local exe target
    for exe in /proc/[0-9]*/exe; do
      target="$(readlink "$exe" 2>/dev/null)" || continue
      for binary in "${binaries[@]}"; do
        [[ "$target" == "$binary" ]] && exe="${exe#/proc/}" && echo "${exe%/exe}"
      done
    done
    return 0
  }
  local before
  before="$(daemon_pids)"

  local log
  log="$(mktemp)"
  apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@" >>"$log" 2>&1; }
  if ! apt-cache show "${packages[@]}" >/dev/null 2>&1; then
    apt_get update -qq || die "apt-get update failed: $(cat "$log")"
  fi
  apt_get install -y -qq --no-install-recommends "${packages[@]}" || die "apt-get install failed: $(cat "$log")"
  rm -f "$log"

  local pid
  for pid in $(daemon_pids); do
    grep -qx "$pid" <<<"$before" && continue
    echo "$name: stopping daemon $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) that the install started" >&2
    kill "$pid" 2>/dev/null || true
  done
  for binary in "${binaries[@]}"; do [[ -x "$binary" ]] || die "$binary still missing after the install"; done
}
