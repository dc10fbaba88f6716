#!/usr/bin/env bash
# Stops the DTR stand-in started by up.sh: exactly the processes named by its pid files
# (nginx, the API service, the registry), each with SIGTERM, a bounded wait, then SIGKILL.
# If the state dir was removed under a running stand-in, they are found by their command
# lines, which name the state dir.
#
#   tests/standin/down.sh [--purge] [STATE_DIR]   (default: <repo>/.cluster/standin)
#
# The PKI, registry data and logs stay, so the next up.sh serves the same CA (clusters and
# caches that trust it keep working). --purge removes the state dir as well.
# Safe to run when nothing runs, and to run twice.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

PURGE=0
ARGS=()
for a in "$@"; do
  case $a in
    --purge) PURGE=1 ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    -*) die "unknown option $a; usage: $0 [--purge] [STATE_DIR]" ;;
    *) ARGS+=("$a") ;;
  esac
done
(( ${#ARGS[@]} <= 1 )) || die "usage: $0 [--purge] [STATE_DIR]"
set_state "${ARGS[0]:-}"

log "==> stopping the DTR stand-in ($STATE)"
if [[ -d $STATE ]]; then
  [[ -e $STATE/$STANDIN_MARKER ]] || die "$STATE was not made by the stand-in's up.sh; leaving it alone"
  exec 9>"$STATE/.lock"
  flock -w 60 9 || die "another up.sh/down.sh holds $STATE/.lock"
else
  # The state dir can vanish under a running stand-in (tests/cluster/down.sh removes all of
  # .cluster/); its processes are then found by their command lines.
  log "    $STATE does not exist; looking for processes that still use it"
fi

# nginx first, so no request reaches a backend that is going away.
for ((i = ${#STANDIN_PROCS[@]} - 1; i >= 0; i--)); do
  stop_proc "${STANDIN_PROCS[i]}" 10
done

if [[ ! -d $STATE ]]; then
  exit 0
elif (( PURGE )); then
  exec 9>&-
  rm -rf --one-file-system "$STATE"
  log "    removed $STATE"
else
  log "    PKI, registry data and logs kept in $STATE (--purge removes them)"
fi
