#!/usr/bin/env bash
# System packages the tests and the app use, from Debian's packages: Chromium's headless shell (browser tests),
# PostgreSQL (shared record store tests), strace (the no-network test). Installed when root; otherwise
# one line says what to install.
set -euo pipefail
missing=()
command -v chromium-headless-shell >/dev/null 2>&1 || missing+=(chromium-headless-shell)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
command -v strace >/dev/null 2>&1 || missing+=(strace)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "advisor: missing system packages; install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
