# Shared settings and helpers of the DTR stand-in's up.sh and down.sh. Sourced, not run.
# shellcheck shell=bash

STANDIN_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STANDIN_REPO=$(cd "$STANDIN_HERE/../.." && pwd)
STANDIN_DEFAULT_STATE=$STANDIN_REPO/.cluster/standin
# Written by up.sh into every state dir it makes; down.sh --purge removes only such dirs, so
# a mistyped argument can never delete an unrelated directory.
# shellcheck disable=SC2034  # used by up.sh and down.sh
STANDIN_MARKER=.dtr-standin

# The processes, in start order. down.sh stops them in reverse.
# shellcheck disable=SC2034  # used by down.sh
STANDIN_PROCS=(registry api nginx)

log() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# set_state DIR: absolute STATE path (DIR may not exist yet).
set_state() {
  local dir=${1:-$STANDIN_DEFAULT_STATE}
  [[ $dir == /* ]] || dir=$PWD/$dir
  STATE=${dir%/}
}

# proc_marker NAME: a string found on the command line of our process NAME and of no other;
# it carries the state dir, so two stand-ins with different state dirs never mix up pids.
proc_marker() {
  case $1 in
    registry) printf '%s' "serve $STATE/registry.yml" ;;
    api) printf '%s' "dtr_api.py --state-dir $STATE --listen" ;;
    nginx) printf '%s' "-c $STATE/nginx.conf" ;;
    *) die "unknown process $1" ;;
  esac
}

# pid_of NAME: prints the pid from NAME.pid if that process is alive and is ours; else fails.
# The command-line check guards against a pid the kernel has reused for something else.
pid_of() {
  local pidfile=$STATE/$1.pid pid
  [[ -f $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$(proc_marker "$1")" || return 1
  printf '%s\n' "$pid"
}

# find_orphan NAME: our process NAME found by its command line when its pid file is gone (for
# instance after tests/cluster/down.sh removed all of .cluster/ while the stand-in ran).
# Only session leaders count: every daemon up.sh starts is one, so its children are skipped.
find_orphan() {
  local marker p stat f
  marker=$(proc_marker "$1")
  for p in /proc/[0-9]*; do
    tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$marker" || continue
    stat=$(cat "$p/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    # Fields after the command name: state ppid pgrp session ...
    read -r -a f <<<"$stat"
    if [[ ${f[3]} == "${p#/proc/}" ]]; then printf '%s\n' "${p#/proc/}"; fi
  done
  return 0
}

# group_alive PGID: any live process left in that process group. Each daemon is started with
# setsid, so its group holds it and its children (nginx workers) and nothing else. Zombies
# do not count: an exited daemon stays one until init reaps it, which can take seconds.
group_alive() {
  local p stat
  for p in $(pgrep -g "$1" 2>/dev/null); do
    stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    stat=${stat##*) }   # the command name in parentheses may itself hold spaces
    [[ ${stat%% *} == Z ]] || return 0
  done
  return 1
}

# stop_proc NAME TIMEOUT: SIGTERM to our process, up to TIMEOUT seconds for it and its
# children to go, then SIGKILL to its process group. Removes the pid file.
stop_proc() {
  local name=$1 timeout=$2 pid i
  pid=$(pid_of "$name") || pid=$(find_orphan "$name" | head -n 1) || pid=
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 4; i++)); do group_alive "$pid" || break; sleep 0.25; done
    if group_alive "$pid"; then
      log "    $name (pid $pid) did not stop in ${timeout}s: killing its process group"
      kill -KILL -- "-$pid" 2>/dev/null || true
      for ((i = 0; i < 20; i++)); do group_alive "$pid" || break; sleep 0.25; done
      group_alive "$pid" && log "    warning: processes of group $pid are still present"
    fi
    log "    stopped $name (pid $pid)"
  elif [[ -f $STATE/$name.pid ]]; then
    log "    $name: stale pid file (process gone or not ours), removed"
  fi
  rm -f "$STATE/$name.pid"
}
