#!/usr/bin/env bash
# Starts the DTR stand-in: a test PKI, the distribution registry (upstream, plain HTTP on
# loopback), the content-cache API service, and nginx terminating TLS in front of both.
# It is NOT DTR: see README.md beside this file for what is real and what is imitated.
#
#   tests/standin/up.sh [STATE_DIR]          (default: <repo>/.cluster/standin)
#
# Environment (all optional):
#   STANDIN_HOST_IP         address pods reach (default: contents of .cluster/host-ip if that
#                           file exists); set it empty for loopback only
#   STANDIN_PORT            TLS port on the host IP (443)
#   STANDIN_LOCAL_PORT      TLS port on 127.0.0.1 (8443)
#   STANDIN_REGISTRY_PORT   distribution's loopback port (5000)
#   STANDIN_API_PORT        API service's loopback port (8081)
#   STANDIN_ADMIN_USER / STANDIN_ADMIN_PASSWORD   API basic auth (admin / standin-password)
#   STANDIN_USERS           comma-separated accounts besides the admin (alice,bob)
#
# Idempotent: the PKI is made once and kept; a process that already runs with the same
# configuration is left alone, one whose configuration changed is reloaded or restarted.
# Everything it starts is stopped by down.sh.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

(( $# <= 1 )) || die "usage: $0 [STATE_DIR]"
set_state "${1:-}"

# --- settings --------------------------------------------------------------------------------

# Unset means "use the cluster's bridge if the cluster wrote it"; set-but-empty means loopback.
if [[ -v STANDIN_HOST_IP ]]; then
  HOST_IP=$STANDIN_HOST_IP
elif [[ -s $STANDIN_REPO/.cluster/host-ip ]]; then
  HOST_IP=$(tr -d '[:space:]' <"$STANDIN_REPO/.cluster/host-ip")
else
  HOST_IP=
fi
PORT=${STANDIN_PORT:-443}
LOCAL_PORT=${STANDIN_LOCAL_PORT:-8443}
REGISTRY_PORT=${STANDIN_REGISTRY_PORT:-5000}
API_PORT=${STANDIN_API_PORT:-8081}
ADMIN_USER=${STANDIN_ADMIN_USER:-admin}
ADMIN_PASSWORD=${STANDIN_ADMIN_PASSWORD:-standin-password}
USERS=${STANDIN_USERS-alice,bob}
HOSTNAME_=dtr.test
READY_TIMEOUT=30

for p in "$PORT" "$LOCAL_PORT" "$REGISTRY_PORT" "$API_PORT"; do
  if ! [[ $p =~ ^[0-9]+$ ]] || (( p < 1 || p > 65535 )); then die "not a port number: $p"; fi
done

# curl only ever talks to this machine here; a proxy from the environment must not intercept.
CURL=(curl --noproxy '*' -fsS --max-time 5)

# --- host prerequisites ----------------------------------------------------------------------

# command → Debian package. CI starts from a fresh machine, so nothing is assumed present.
# (busybox-static: the runnable image the e2e tests push, for pods to pull through a cache.)
# (nginx-light is a transitional name for nginx on Debian 12, so the real package is asked for.)
declare -A NEED=([nginx]=nginx [docker-registry]=docker-registry [skopeo]=skopeo [openssl]=openssl
  [curl]=curl [python3]=python3 [ss]=iproute2 [ip]=iproute2 [pgrep]=procps [flock]=util-linux
  [busybox]=busybox-static)
packages() {
  local missing=() c
  for c in "${!NEED[@]}"; do
    command -v "$c" >/dev/null 2>&1 || missing+=("${NEED[$c]}")
  done
  (( ${#missing[@]} )) || return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  [[ $(id -u) == 0 ]] || die "missing packages (${missing[*]}); install them or run as root"
  log "==> installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
# nginx and ip live in sbin, which a non-login PATH may lack.
PATH=$PATH:/usr/sbin:/sbin
packages
NGINX=$(command -v nginx)
REGISTRY_BIN=/usr/bin/docker-registry
[[ -x $REGISTRY_BIN ]] || die "$REGISTRY_BIN is missing (Debian package docker-registry)"
PYTHON=$(command -v python3)

if [[ -n $HOST_IP ]]; then
  "$PYTHON" -c 'import ipaddress, sys; ipaddress.ip_address(sys.argv[1])' "$HOST_IP" 2>/dev/null ||
    die "STANDIN_HOST_IP is not an IP address: $HOST_IP"
  # nginx cannot bind an address that no interface has; say so plainly instead.
  [[ -n $(ip -o addr show to "$HOST_IP" 2>/dev/null) ]] ||
    die "host IP $HOST_IP is on no interface (is the cluster up?); STANDIN_HOST_IP= runs loopback only"
fi

# --- state dir, lock -------------------------------------------------------------------------

if [[ -d $STATE && -n $(ls -A "$STATE") && ! -e $STATE/$STANDIN_MARKER ]]; then
  die "$STATE exists and was not made by the stand-in; choose another STATE_DIR"
fi
mkdir -p "$STATE"/{registry,certdir,nginx/tmp}
touch "$STATE/$STANDIN_MARKER"
# One up.sh or down.sh at a time per state dir. Started daemons get fd 9 closed, or they
# would hold the lock for their whole life.
exec 9>"$STATE/.lock"
flock -w 60 9 || die "another up.sh/down.sh holds $STATE/.lock"

log "==> DTR stand-in, state in $STATE"

# write_if_changed FILE: stdin becomes FILE unless FILE already has exactly that content.
# Succeeds when FILE changed, so callers know whether a running process needs the new one.
write_if_changed() {
  local file=$1 tmp
  tmp=$(mktemp "$file.XXXXXX")
  cat >"$tmp"
  if [[ -f $file ]] && cmp -s "$tmp" "$file"; then rm -f "$tmp"; return 1; fi
  mv -f "$tmp" "$file"
}

# --- PKI -------------------------------------------------------------------------------------

SANS="DNS:$HOSTNAME_,DNS:localhost,IP:127.0.0.1${HOST_IP:+,IP:$HOST_IP}"
CERT_CHANGED=0

make_ca() {
  local conf=$STATE/openssl-ca.cnf
  cat >"$conf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = DTR stand-in test CA
O = dtr.cache tests
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOF
  (umask 077; openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -config "$conf" \
    -extensions v3_ca -keyout "$STATE/ca.key" -out "$STATE/ca.pem" 2>/dev/null)
  chmod 644 "$STATE/ca.pem"
  rm -f "$STATE/server.pem"   # anything signed by an earlier CA is worthless now
  log "    new CA: $STATE/ca.pem"
}

# The server certificate is re-issued when its SANs would differ (host IP changed), when it
# expires within 30 days, or when it no longer chains to the CA.
server_cert_ok() {
  [[ -s $STATE/server.pem && -s $STATE/server.key && -f $STATE/server.sans ]] &&
    [[ $(<"$STATE/server.sans") == "$SANS" ]] &&
    openssl x509 -in "$STATE/server.pem" -noout -checkend 2592000 >/dev/null 2>&1 &&
    openssl verify -CAfile "$STATE/ca.pem" "$STATE/server.pem" >/dev/null 2>&1
}

make_server_cert() {
  local ext=$STATE/openssl-server.cnf
  cat >"$ext" <<EOF
[v3_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $SANS
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
EOF
  (umask 077
    openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$HOSTNAME_/O=dtr.cache tests" \
      -keyout "$STATE/server.key" -out "$STATE/server.csr" 2>/dev/null
    openssl x509 -req -in "$STATE/server.csr" -CA "$STATE/ca.pem" -CAkey "$STATE/ca.key" \
      -set_serial "0x$(openssl rand -hex 16)" -days 397 -sha256 \
      -extfile "$ext" -extensions v3_server -out "$STATE/server.pem" 2>/dev/null)
  chmod 644 "$STATE/server.pem"
  rm -f "$STATE/server.csr"
  printf '%s' "$SANS" >"$STATE/server.sans"
  CERT_CHANGED=1
  log "    new server certificate: $SANS"
}

log "==> PKI"
if [[ ! -s $STATE/ca.pem || ! -s $STATE/ca.key ]]; then make_ca; fi
server_cert_ok || make_server_cert
# skopeo and containers-image want a directory holding ca.crt.
cp -f "$STATE/ca.pem" "$STATE/certdir/ca.crt"
FINGERPRINT=$(openssl x509 -in "$STATE/ca.pem" -noout -fingerprint -sha256 | sed 's/^.*=//')
printf '%s\n' "$FINGERPRINT" >"$STATE/ca.sha256"
log "    CA sha256 $FINGERPRINT"

# --- configuration files ---------------------------------------------------------------------

[[ -s $STATE/registry.secret ]] || (umask 077; openssl rand -hex 32 >"$STATE/registry.secret")

REGISTRY_CHANGED=0
write_if_changed "$STATE/registry.yml" <<EOF && REGISTRY_CHANGED=1
# Written by tests/standin/up.sh on every start; edits are lost.
# The upstream registry behind the stand-in's nginx. Only nginx reaches it, over loopback,
# so it speaks plain HTTP. Never Debian's packaged config (it points htpasswd at a directory).
version: 0.1
log:
  level: info
  formatter: text
  fields:
    service: dtr-standin-registry
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: '$STATE/registry'
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REGISTRY_PORT
  secret: $(<"$STATE/registry.secret")
  headers:
    X-Content-Type-Options: [nosniff]
EOF

if [[ -n $HOST_IP ]]; then
  if [[ $HOST_IP == *:* ]]; then HOST_LISTEN="[$HOST_IP]:$PORT"; else HOST_LISTEN="$HOST_IP:$PORT"; fi
  HOST_LISTEN_LINE="listen $HOST_LISTEN ssl;"
else
  HOST_LISTEN_LINE="# no host IP known: loopback only"
fi

NGINX_CHANGED=0
write_if_changed "$STATE/nginx.conf" <<EOF && NGINX_CHANGED=1
# Written by tests/standin/up.sh on every start; edits are lost.
# Runs in the foreground under up.sh's pid file, never as the system nginx service.
daemon off;
master_process on;
worker_processes 2;
# Workers read ca.pem and write temp files in the state dir, which may sit below a directory
# only root can enter (a checkout under /root). Ignored with a warning when not run as root.
user root;
pid "$STATE/nginx/nginx.pid";
error_log "$STATE/nginx-error.log" notice;

events {
  worker_connections 512;
}

http {
  default_type application/octet-stream;
  server_tokens off;
  sendfile on;
  client_body_temp_path "$STATE/nginx/tmp/body";
  proxy_temp_path "$STATE/nginx/tmp/proxy";
  fastcgi_temp_path "$STATE/nginx/tmp/fastcgi";
  uwsgi_temp_path "$STATE/nginx/tmp/uwsgi";
  scgi_temp_path "$STATE/nginx/tmp/scgi";

  # One line per request. Fields, in order: client address, time, the listening address:port,
  # "METHOD URI PROTOCOL", status, body bytes sent, total bytes sent, request bytes received,
  # seconds taken, "user agent". The e2e tests count blob fetches and bytes from it.
  log_format standin '\$remote_addr [\$time_iso8601] \$server_addr:\$server_port '
                     '"\$request_method \$request_uri \$server_protocol" \$status '
                     '\$body_bytes_sent \$bytes_sent \$request_length \$request_time '
                     '"\$http_user_agent"';
  access_log "$STATE/nginx-access.log" standin;

  upstream standin_registry {
    server 127.0.0.1:$REGISTRY_PORT;
    keepalive 16;
  }
  upstream standin_api {
    server 127.0.0.1:$API_PORT;
  }

  server {
    listen 127.0.0.1:$LOCAL_PORT ssl;
    $HOST_LISTEN_LINE
    server_name $HOSTNAME_ localhost;

    ssl_certificate "$STATE/server.pem";
    ssl_certificate_key "$STATE/server.key";
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:standin:1m;

    # DTR serves its CA here; the collection and the guide fetch it with curl.
    location = /ca {
      default_type text/plain;
      alias "$STATE/ca.pem";
    }
    location = /_ping {
      default_type text/plain;
      return 200 "OK";
    }

    location /v2/ {
      # Layers of any size, streamed both ways instead of spooled to disk first.
      client_max_body_size 0;
      chunked_transfer_encoding on;
      proxy_request_buffering off;
      proxy_buffering off;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # distribution builds upload Location URLs from Host and X-Forwarded-Proto; without
      # them a client would be sent to http://127.0.0.1:$REGISTRY_PORT.
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Real-IP \$remote_addr;
      proxy_read_timeout 900s;
      proxy_send_timeout 900s;
      proxy_pass http://standin_registry;
    }

    location /api/v0/ {
      client_max_body_size 1m;
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_pass http://standin_api;
    }

    location / {
      return 404;
    }
  }
}
EOF

# The API service reads its accounts and credentials from the environment at start; a
# digest of them and of its code (not the password itself) tells a later up.sh whether to
# restart it.
API_CHANGED=0
{ printf '%s\0' "$ADMIN_USER" "$ADMIN_PASSWORD" "$USERS" "$API_PORT"; cat "$HERE/dtr_api.py"; } |
  sha256sum | cut -d' ' -f1 | write_if_changed "$STATE/api.settings.sha256" && API_CHANGED=1

# --- processes -------------------------------------------------------------------------------

# port_free NAME ADDR PORT: fail unless nothing but our own NAME listens on ADDR:PORT (or on
# the wildcard address of that port, which would also block the bind).
port_free() {
  local name=$1 addr=$2 port=$3 a
  pid_of "$name" >/dev/null && return 0
  while read -r a; do
    case ${a%:*} in
      "$addr" | "[$addr]" | 0.0.0.0 | '*' | '[::]')
        die "port $a is in use (needed by $name): $(ss -Hltnp "sport = :$port" | head -1)" ;;
    esac
  done < <(ss -Hltn "sport = :$port" | awk '{print $4}')
}

# start NAME LOG COMMAND...: starts COMMAND in a new session (its own process group, away from
# the caller's terminal and make), appending to LOG, and records its pid.
start() {
  local name=$1 logfile=$2; shift 2
  setsid "$@" >>"$logfile" 2>&1 </dev/null 9>&- &
  echo $! >"$STATE/$name.pid"
  log "    started $name (pid $!)"
}

# ensure NAME CHANGED LOG COMMAND...: start NAME unless it runs; restart it if CHANGED is 1.
ensure() {
  local name=$1 changed=$2 pid
  if pid=$(pid_of "$name"); then
    if [[ $changed == 1 ]]; then
      log "    $name configuration changed: restarting"
      stop_proc "$name" 10
    else
      log "    $name already running (pid $pid)"
      return 0
    fi
  fi
  shift 2
  start "$name" "$@"
}

log "==> processes"
port_free registry 127.0.0.1 "$REGISTRY_PORT"
port_free api 127.0.0.1 "$API_PORT"
port_free nginx 127.0.0.1 "$LOCAL_PORT"
[[ -z $HOST_IP ]] || port_free nginx "$HOST_IP" "$PORT"

ensure registry "$REGISTRY_CHANGED" "$STATE/registry.log" "$REGISTRY_BIN" serve "$STATE/registry.yml"
ensure api "$API_CHANGED" "$STATE/api.log" env STANDIN_ADMIN_USER="$ADMIN_USER" \
  STANDIN_ADMIN_PASSWORD="$ADMIN_PASSWORD" STANDIN_USERS="$USERS" \
  "$PYTHON" -u "$HERE/dtr_api.py" --state-dir "$STATE" --listen "127.0.0.1:$API_PORT"

"$NGINX" -t -q -c "$STATE/nginx.conf" -p "$STATE/nginx/" -e "$STATE/nginx-error.log" ||
  die "nginx rejects $STATE/nginx.conf"
if NGINX_PID=$(pid_of nginx) && [[ $NGINX_CHANGED == 1 || $CERT_CHANGED == 1 ]]; then
  # A reload keeps serving while new listeners and the new certificate take over.
  log "    nginx configuration or certificate changed: reloading (pid $NGINX_PID)"
  kill -HUP "$NGINX_PID"
  sleep 1
else
  ensure nginx 0 "$STATE/nginx-error.log" "$NGINX" -c "$STATE/nginx.conf" -p "$STATE/nginx/" -e "$STATE/nginx-error.log"
fi

# --- readiness -------------------------------------------------------------------------------

DEADLINE=$(( SECONDS + READY_TIMEOUT ))
# await NAME LOG DESCRIPTION COMMAND...: retries COMMAND until it succeeds, failing early with
# the log's tail when NAME died, and at the shared deadline.
await() {
  local name=$1 logfile=$2 what=$3; shift 3
  until "$@" >/dev/null 2>&1; do
    if ! pid_of "$name" >/dev/null; then
      tail -n 20 "$logfile" >&2
      die "$name exited; log: $logfile"
    fi
    if (( SECONDS >= DEADLINE )); then
      tail -n 20 "$logfile" >&2
      die "no $what within ${READY_TIMEOUT}s; log: $logfile"
    fi
    sleep 0.25
  done
}
ping_ok() { [[ $("${CURL[@]}" "$@") == OK ]]; }

log "==> waiting (at most ${READY_TIMEOUT}s)"
await registry "$STATE/registry.log" "registry on :$REGISTRY_PORT" "${CURL[@]}" "http://127.0.0.1:$REGISTRY_PORT/v2/"
await api "$STATE/api.log" "API service on :$API_PORT" "${CURL[@]}" "http://127.0.0.1:$API_PORT/_ping"
await nginx "$STATE/nginx-error.log" "TLS /_ping on :$LOCAL_PORT" ping_ok --cacert "$STATE/ca.pem" "https://127.0.0.1:$LOCAL_PORT/_ping"
# End to end through nginx: the registry and the API behind it, the name the pods use.
await nginx "$STATE/nginx-error.log" "registry through nginx" "${CURL[@]}" --cacert "$STATE/ca.pem" "https://localhost:$LOCAL_PORT/v2/"
await nginx "$STATE/nginx-error.log" "API through nginx" "${CURL[@]}" --cacert "$STATE/ca.pem" \
  -u "$ADMIN_USER:$ADMIN_PASSWORD" "https://localhost:$LOCAL_PORT/api/v0/content_caches"
if [[ -n $HOST_IP ]]; then
  await nginx "$STATE/nginx-error.log" "TLS /_ping on $HOST_LISTEN" ping_ok --cacert "$STATE/ca.pem" \
    --resolve "$HOSTNAME_:$PORT:$HOST_IP" "https://$HOSTNAME_:$PORT/_ping"
fi

# --- summary ---------------------------------------------------------------------------------

HOST_URL=
[[ -z $HOST_IP ]] || HOST_URL="https://$HOSTNAME_$( [[ $PORT == 443 ]] || printf ':%s' "$PORT")"
# For tests and scripts: where the running stand-in is (no password in it).
cat >"$STATE/standin.env" <<EOF
STANDIN_STATE_DIR='$STATE'
STANDIN_CA_FILE='$STATE/ca.pem'
STANDIN_CERT_DIR='$STATE/certdir'
STANDIN_CA_SHA256='$FINGERPRINT'
STANDIN_LOCAL_URL='https://localhost:$LOCAL_PORT'
STANDIN_HOSTNAME='$HOSTNAME_'
STANDIN_HOST_IP='$HOST_IP'
STANDIN_HOST_URL='$HOST_URL'
STANDIN_ADMIN_USER='$ADMIN_USER'
EOF

log "==> DTR stand-in is up"
log "    local:        https://localhost:$LOCAL_PORT  (also https://127.0.0.1:$LOCAL_PORT)"
if [[ -n $HOST_URL ]]; then
  log "    pods:         $HOST_URL  (hostAliases: $HOSTNAME_ -> $HOST_IP)"
else
  log "    pods:         none (no host IP; loopback only)"
fi
log "    registry:     <url>/v2/   API: <url>/api/v0/   CA: <url>/ca"
log "    CA:           $STATE/ca.pem  (skopeo --cert-dir $STATE/certdir)"
log "    CA sha256:    $FINGERPRINT"
log "    admin:        $ADMIN_USER  (password from STANDIN_ADMIN_PASSWORD$( [[ -v STANDIN_ADMIN_PASSWORD ]] || printf ', default %s' "$ADMIN_PASSWORD"))"
log "    accounts:     $ADMIN_USER${USERS:+,$USERS}"
log "    logs:         $STATE/{nginx-access,nginx-error,registry,api}.log"
log "    stop:         $HERE/down.sh$( [[ $STATE == "$STANDIN_DEFAULT_STATE" ]] || printf " %q" "$STATE")"
