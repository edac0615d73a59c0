#!/usr/bin/env bash
# Installs (if missing) and runs the real servers the integration, crash and e2e tests use:
# PostgreSQL 15, Redis 7 (one server and a 6-node Redis Cluster), an embedded Neo4j 5.26 (built from Maven Central) and the Qdrant Edge
# front (services/qdrant-edge: a small REST server on Qdrant's own storage engine from PyPI; it is
# NOT the Qdrant server), each on its own loopback port with its data under <repo>/.services, so
# they never collide with system services. A server already answering on its port (for example
# one started by another checkout of this repository) is reused, not restarted.
#
#   bash scripts/services.sh up       install what is missing, start what is down, wait until ready
#   bash scripts/services.sh install  only install what is missing (packages, Neo4j build, Python venv)
#   bash scripts/services.sh down     stop all four cleanly
#   bash scripts/services.sh status   one line per server; exit 1 if any is down
#   bash scripts/services.sh env      print the `export APEX_TEST_*=...` lines
#
# Meant for CI on a fresh Debian 12 machine (root, no Docker, only package registries reachable):
# nothing installed by hand survives there, so this script installs what it needs. See docs/services.md.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SVC="$REPO/.services"
LAUNCHER="$REPO/neo4j-launcher"
HOST=127.0.0.1
# Ports can be moved (e.g. when something else holds them); `env` and .services/env follow.
PG_PORT=${APEX_SERVICES_PG_PORT:-55432}
REDIS_PORT=${APEX_SERVICES_REDIS_PORT:-56379}
NEO4J_PORT=${APEX_SERVICES_NEO4J_PORT:-57687}
QDRANT_PORT=${APEX_SERVICES_QDRANT_PORT:-56333}
PGBOUNCER_PORT=${APEX_SERVICES_PGBOUNCER_PORT:-56432}
# The Redis Cluster's six nodes take ports BASE..BASE+5; each node's cluster bus listens on its
# port + 1000 (Redis's default of +10000 would leave the port range).
REDIS_CLUSTER_PORT=${APEX_SERVICES_REDIS_CLUSTER_PORT:-57000}
PG_BIN=/usr/lib/postgresql/15/bin
# Test-only credentials for servers that listen on loopback only.
PG_ADMIN_PASSWORD=apexadmin
NEO4J_WAIT_SECONDS=${APEX_NEO4J_WAIT_SECONDS:-120}
# The machine is shared (2 cores, several test processes): keep Neo4j's memory modest.
NEO4J_HEAP=${APEX_NEO4J_HEAP:-1g}
NEO4J_PAGECACHE_MB=${APEX_NEO4J_PAGECACHE_MB:-256}
export DEBIAN_FRONTEND=noninteractive

log() { printf '%s\n' "$*" >&2; }
die() { log "services: ERROR: $*"; exit 1; }

env_lines() {
  cat <<EOF
export APEX_TEST_DATABASE_URL=postgresql://apex:apex@$HOST:$PG_PORT/apex_test
export APEX_TEST_PG_ADMIN_URL=postgresql://postgres:$PG_ADMIN_PASSWORD@$HOST:$PG_PORT/postgres
export APEX_TEST_NEO4J_URL=bolt://$HOST:$NEO4J_PORT
export APEX_TEST_REDIS_URL=redis://$HOST:$REDIS_PORT
export APEX_TEST_QDRANT_URL=http://$HOST:$QDRANT_PORT
export APEX_TEST_PGBOUNCER_URL=postgresql://apex:apex@$HOST:$PGBOUNCER_PORT/apex_test
export APEX_TEST_REDIS_CLUSTER_URL=redis+cluster://$(redis_cluster_seeds)
EOF
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root to run: $*"; fi; }

APT_UPDATED=0
apt_install() {
  log "services: installing $* (Debian packages)…"
  if [ "$APT_UPDATED" -eq 0 ]; then
    as_root apt-get update -q >>"$SVC/logs/apt.log" 2>&1 ||
      { tail -30 "$SVC/logs/apt.log" >&2; die "apt-get update failed"; }
    APT_UPDATED=1
  fi
  # Keep the packages' own system services (Debian's 'main' cluster, redis on 6379) from starting:
  # we run our own instances. policy-rc.d is Debian's standard switch for that.
  local added_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
    added_policy=1
  fi
  local rc=0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" \
    >>"$SVC/logs/apt.log" 2>&1 || rc=$?
  if [ "$added_policy" -eq 1 ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
  [ "$rc" -eq 0 ] || { tail -30 "$SVC/logs/apt.log" >&2; die "apt-get install $* failed (exit $rc)"; }
}

# ---------------------------------------------------------------- PostgreSQL

# postgres refuses to run as root, so as root the cluster belongs to user 'postgres'.
pg_as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_chown() { if [ "$(id -u)" -eq 0 ]; then chown postgres: "$@"; fi; }

pg_paths() {
  PG_DATA="$SVC/pg"
  PG_SOCKET_DIR="$SVC/run/pg"
  PG_LOG="$SVC/logs/postgres.log"
  if [ -L "$SVC/pg" ]; then
    PG_DATA="$(readlink "$SVC/pg")"
    PG_SOCKET_DIR="$(dirname "$PG_DATA")/run"
    PG_LOG="$(dirname "$PG_DATA")/postgres.log"
    return
  fi
  # User 'postgres' must be able to reach the data dir, and a unix socket path is limited to ~107
  # bytes. When the checkout lives somewhere postgres cannot enter (e.g. under /root) or deep,
  # the cluster goes to a per-checkout dir under /var/tmp instead; .services/pg then points there.
  if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1; then
    if [ -d "$SVC/pg" ]; then return; fi
    if ! runuser -u postgres -- test -x "$SVC" || [ "${#PG_SOCKET_DIR}" -gt 80 ]; then
      local alt
      alt="/var/tmp/apex-services-$(printf '%s' "$REPO" | sha256sum | cut -c1-12)"
      PG_DATA="$alt/pg"
      PG_SOCKET_DIR="$alt/run"
      PG_LOG="$alt/postgres.log"
    fi
  fi
}

psql_admin() {
  # The unix socket when this checkout runs the cluster; TCP with the test admin password when the
  # cluster on the port was started by another checkout (its socket dir is elsewhere).
  local host="$PG_SOCKET_DIR"
  [ -S "$PG_SOCKET_DIR/.s.PGSQL.$PG_PORT" ] || host="$HOST"
  PGPASSWORD="$PG_ADMIN_PASSWORD" PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$host" -p "$PG_PORT" \
    -U postgres -d postgres -tA "$@"
}

pg_ensure_installed() {
  [ -x "$PG_BIN/postgres" ] || apt_install postgresql-15
  [ -x "$PG_BIN/postgres" ] || die "postgresql-15 installed but $PG_BIN/postgres is missing"
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  fi
}

pg_running() { "$PG_BIN/pg_isready" -q -h "$HOST" -p "$PG_PORT" -t 2 >/dev/null 2>&1; }

pg_init() {
  log "postgres: creating cluster in $PG_DATA…"
  mkdir -p "$(dirname "$PG_DATA")"
  mkdir -p "$PG_DATA"
  pg_chown "$PG_DATA"
  chmod 700 "$PG_DATA"
  local pwfile
  pwfile="$(mktemp)"
  printf '%s\n' "$PG_ADMIN_PASSWORD" >"$pwfile"
  pg_chown "$pwfile"
  # Local socket: trust (only root/postgres can reach the 0700 socket dir); TCP: passwords.
  pg_as_owner "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$pwfile" -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 >"$SVC/logs/initdb.log" 2>&1 ||
    { rm -f "$pwfile"; tail -20 "$SVC/logs/initdb.log" >&2; die "initdb failed"; }
  rm -f "$pwfile"
  printf "\ninclude = 'apex.conf'\n" | pg_as_owner tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

pg_write_conf() {
  # Rewritten on every start so the settings live in one place: this script.
  pg_as_owner tee "$PG_DATA/apex.conf" >/dev/null <<EOF
# Written by scripts/services.sh; edits here are overwritten on the next start.
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
unix_socket_permissions = 0700
max_connections = 200
fsync = on
synchronous_commit = on
EOF
}

pg_setup_roles() {
  # Idempotent: only creates what is missing.
  if [ -z "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'apex'")" ]; then
    psql_admin -c "CREATE ROLE apex LOGIN PASSWORD 'apex'"
  fi
  if [ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'apex_test'")" ]; then
    psql_admin -c "CREATE DATABASE apex_test OWNER apex"
  fi
}

pg_up() {
  pg_ensure_installed
  pg_paths
  if pg_running; then pg_setup_roles; log "postgres: already running on $HOST:$PG_PORT"; return; fi
  log "postgres: starting…"
  mkdir -p "$PG_SOCKET_DIR"
  pg_chown "$PG_SOCKET_DIR"
  chmod 700 "$PG_SOCKET_DIR"
  [ -f "$PG_DATA/PG_VERSION" ] || pg_init
  if [ "$PG_DATA" != "$SVC/pg" ] && [ ! -e "$SVC/pg" ]; then ln -s "$PG_DATA" "$SVC/pg"; fi
  pg_write_conf
  touch "$PG_LOG"
  pg_chown "$PG_LOG"
  pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start >/dev/null 9>&- ||
    { tail -20 "$PG_LOG" >&2; die "postgres did not start (log: $PG_LOG)"; }
  pg_setup_roles
  log "postgres: ready on $HOST:$PG_PORT"
}

pg_down() {
  pg_paths
  if [ -f "$PG_DATA/postmaster.pid" ]; then
    log "postgres: stopping…"
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
  if pg_running; then die "postgres still answers on $HOST:$PG_PORT (not ours?)"; fi
}

pg_status() {
  pg_paths
  local v
  if [ -x "$PG_BIN/psql" ] && v="$(psql_admin -c 'SHOW server_version' 2>/dev/null)"; then
    echo "postgres  $HOST:$PG_PORT  up    PostgreSQL $v"
  else
    echo "postgres  $HOST:$PG_PORT  down"
    return 1
  fi
}

# ---------------------------------------------------------------- Redis

redis_cli() { redis-cli -h "$HOST" -p "$REDIS_PORT" "$@"; }
redis_running() { command -v redis-cli >/dev/null && [ "$(redis_cli ping 2>/dev/null)" = PONG ]; }

redis_up() {
  command -v redis-server >/dev/null || apt_install redis-server
  if redis_running; then log "redis: already running on $HOST:$REDIS_PORT"; return; fi
  log "redis: starting…"
  mkdir -p "$SVC/redis"
  redis-server --bind "$HOST" --port "$REDIS_PORT" --daemonize yes --dir "$SVC/redis" \
    --save '' --appendonly no --protected-mode yes \
    --pidfile "$SVC/run/redis.pid" --logfile "$SVC/logs/redis.log" 9>&-
  for _ in $(seq 1 100); do redis_running && break; sleep 0.1; done
  redis_running || { tail -20 "$SVC/logs/redis.log" >&2; die "redis did not start"; }
  log "redis: ready on $HOST:$REDIS_PORT"
}

redis_down() {
  if redis_running; then
    log "redis: stopping…"
    redis_cli shutdown nosave >/dev/null 2>&1 || true
    for _ in $(seq 1 100); do redis_running || break; sleep 0.1; done
  fi
  rm -f "$SVC/run/redis.pid"
  if redis_running; then die "redis still answers on $HOST:$REDIS_PORT"; fi
}

redis_status() {
  local v
  if redis_running; then
    v="$(redis_cli info server | tr -d '\r' | sed -n 's/^redis_version://p')"
    echo "redis     $HOST:$REDIS_PORT  up    Redis $v"
  else
    echo "redis     $HOST:$REDIS_PORT  down"
    return 1
  fi
}

# ---------------------------------------------------------------- Redis Cluster

# Six redis-server processes on loopback: 3 masters, 3 replicas (`--cluster-replicas 1`). The
# cluster state lives in each node's nodes.conf, so after `down` and `up` the nodes find each other
# again (roles may have swapped after a failover test); the data itself is not persisted.
redis_cluster_ports() { local i; for i in 0 1 2 3 4 5; do echo $((REDIS_CLUSTER_PORT + i)); done; }
redis_cluster_seeds() { redis_cluster_ports | sed "s/^/$HOST:/" | paste -sd, -; }
rc_cli() { local port=$1; shift; redis-cli -h "$HOST" -p "$port" "$@"; }
rc_node_running() { command -v redis-cli >/dev/null && [ "$(rc_cli "$1" ping 2>/dev/null)" = PONG ]; }
rc_cluster_ok() {
  local p
  for p in $(redis_cluster_ports); do
    rc_cli "$p" cluster info 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok' || return 1
    [ "$(rc_cli "$p" cluster info | tr -d '\r' | sed -n 's/^cluster_known_nodes://p')" = 6 ] || return 1
  done
}

redis_cluster_up() {
  command -v redis-server >/dev/null || apt_install redis-server
  if rc_cluster_ok; then log "redis-cluster: already running on $HOST:$REDIS_CLUSTER_PORT-$((REDIS_CLUSTER_PORT + 5))"; return; fi
  log "redis-cluster: starting 6 nodes…"
  local p dir
  for p in $(redis_cluster_ports); do
    rc_node_running "$p" && continue
    dir="$SVC/redis-cluster/$p"
    mkdir -p "$dir"
    # cluster-node-timeout 2 s: a killed master is replaced within seconds (the failover test).
    redis-server --bind "$HOST" --port "$p" --cluster-enabled yes --cluster-port $((p + 1000)) \
      --cluster-config-file "$dir/nodes.conf" --cluster-node-timeout 2000 --daemonize yes --dir "$dir" \
      --save '' --appendonly no --protected-mode yes \
      --pidfile "$SVC/run/redis-cluster-$p.pid" --logfile "$SVC/logs/redis-cluster-$p.log" 9>&-
  done
  for p in $(redis_cluster_ports); do
    for _ in $(seq 1 100); do rc_node_running "$p" && break; sleep 0.1; done
    rc_node_running "$p" || { tail -20 "$SVC/logs/redis-cluster-$p.log" >&2; die "redis-cluster node $p did not start"; }
  done
  # Fresh nodes (or a half-made cluster from an interrupted create) are reset and joined again;
  # nodes that restarted from their nodes.conf rejoin on their own.
  local slots
  slots="$(rc_cli "$REDIS_CLUSTER_PORT" cluster info | tr -d '\r' | sed -n 's/^cluster_slots_assigned://p')"
  if [ "$slots" != 16384 ]; then
    for p in $(redis_cluster_ports); do rc_cli "$p" flushall >/dev/null; rc_cli "$p" cluster reset hard >/dev/null; done
    # shellcheck disable=SC2046
    redis-cli --cluster create $(redis_cluster_ports | sed "s/^/$HOST:/") --cluster-replicas 1 --cluster-yes \
      >"$SVC/logs/redis-cluster-create.log" 2>&1 ||
      { tail -20 "$SVC/logs/redis-cluster-create.log" >&2; die "redis-cli --cluster create failed"; }
  fi
  for _ in $(seq 1 100); do rc_cluster_ok && break; sleep 0.1; done
  rc_cluster_ok || die "redis-cluster: cluster_state is not ok (see $SVC/logs/redis-cluster-*.log)"
  log "redis-cluster: ready on $HOST:$REDIS_CLUSTER_PORT-$((REDIS_CLUSTER_PORT + 5))"
}
redis_cluster_down() {
  local p
  for p in $(redis_cluster_ports); do
    rc_node_running "$p" && { rc_cli "$p" shutdown nosave >/dev/null 2>&1 || true; }
  done
  for p in $(redis_cluster_ports); do
    for _ in $(seq 1 100); do rc_node_running "$p" || break; sleep 0.1; done
    rm -f "$SVC/run/redis-cluster-$p.pid"
    if rc_node_running "$p"; then die "redis-cluster node still answers on $HOST:$p"; fi
  done
}
redis_cluster_status() {
  local range="$HOST:$REDIS_CLUSTER_PORT-$((REDIS_CLUSTER_PORT + 5))" masters replicas
  if rc_cluster_ok; then
    masters="$(rc_cli "$REDIS_CLUSTER_PORT" cluster nodes | grep -c master || true)"
    replicas="$(rc_cli "$REDIS_CLUSTER_PORT" cluster nodes | grep -c slave || true)"
    echo "redis-cluster $range  up    $masters masters, $replicas replicas, cluster_state ok"
  else
    echo "redis-cluster $range  down"
    return 1
  fi
}

# ---------------------------------------------------------------- Neo4j

NEO4J_PIDFILE="$SVC/run/neo4j.pid"
NEO4J_LOG="$SVC/logs/neo4j.log"
NEO4J_JAR="$LAUNCHER/target/neo4j-launcher.jar"
NEO4J_STAMP="$LAUNCHER/target/.apex-source-hash"

neo4j_pid() {
  local pid
  pid="$(cat "$NEO4J_PIDFILE" 2>/dev/null)" || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -qa Neo4jLauncher "/proc/$pid/cmdline" 2>/dev/null &&
    echo "$pid"
}

# Runs one Cypher query through the real JavaScript driver (the one the adapter uses).
neo4j_query() {
  (cd "$REPO" && NEO4J_URL="bolt://$HOST:$NEO4J_PORT" node -e '
    const neo4j = require("neo4j-driver");
    // The test server runs with auth disabled.
    const driver = neo4j.driver(process.env.NEO4J_URL, undefined, { connectionTimeout: 5000 });
    driver.executeQuery(process.argv[1]).then(
      (r) => { console.log(String(r.records[0].get(0))); return driver.close(); },
      (e) => { console.error(e.message); return driver.close().then(() => process.exit(1)); });
  ' "$1")
}
neo4j_driver_available() { (cd "$REPO" && node -e 'require.resolve("neo4j-driver")' 2>/dev/null); }

neo4j_source_hash() {
  (cd "$LAUNCHER" && find pom.xml src -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-64)
}

neo4j_ensure_toolchain() {
  local missing=()
  command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null || missing+=(maven)
  [ "${#missing[@]}" -eq 0 ] || apt_install "${missing[@]}"
  local major
  major="$(javac -version 2>&1 | sed -n 's/^javac \([0-9]*\).*/\1/p')"
  [ "${major:-0}" -ge 17 ] || die "Neo4j 5.26 needs Java 17+, found javac ${major:-?}"
}

neo4j_build_if_needed() {
  local want
  want="$(neo4j_source_hash)"
  if [ -f "$NEO4J_JAR" ] && [ -d "$LAUNCHER/target/lib" ] && [ "$(cat "$NEO4J_STAMP" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  neo4j_ensure_toolchain
  # A running launcher loads classes from the jar we are about to replace.
  if neo4j_pid >/dev/null; then neo4j_down; fi
  log "neo4j: building launcher (first run downloads Neo4j from Maven Central: up to a few minutes)…"
  rm -rf "$LAUNCHER/target/lib"
  if ! (cd "$LAUNCHER" && mvn -q -B package) >"$SVC/logs/neo4j-build.log" 2>&1; then
    tail -40 "$SVC/logs/neo4j-build.log" >&2
    die "neo4j launcher build failed (full log: $SVC/logs/neo4j-build.log)"
  fi
  echo "$want" >"$NEO4J_STAMP"
}

neo4j_up() {
  if ! neo4j_pid >/dev/null && port_open "$NEO4J_PORT"; then
    # Started by another checkout (or by hand): reuse it rather than build and start a second one.
    if neo4j_driver_available && [ "$(neo4j_query 'RETURN 1' 2>/dev/null)" != 1 ]; then
      die "port $NEO4J_PORT is taken by something that does not answer Bolt RETURN 1"
    fi
    log "neo4j: a Neo4j not started by this checkout listens on $HOST:$NEO4J_PORT; reusing it"
    # The launcher is still built here: the outage test starts private Neo4j servers from it.
    neo4j_build_if_needed
    return
  fi
  neo4j_build_if_needed
  if neo4j_pid >/dev/null && port_open "$NEO4J_PORT"; then
    log "neo4j: already running on $HOST:$NEO4J_PORT"
    return
  fi
  if port_open "$NEO4J_PORT"; then die "port $NEO4J_PORT is taken by a process that is not our launcher"; fi
  command -v java >/dev/null || neo4j_ensure_toolchain
  log "neo4j: starting…"
  mkdir -p "$SVC/neo4j"
  rm -f "$NEO4J_PIDFILE"
  # setsid: the server outlives the shell (or test runner) that started it.
  # --add-opens/netty flags: the ones Neo4j's own launcher passes to the JVM.
  setsid nohup java -Xms256m "-Xmx$NEO4J_HEAP" -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow \
    -Djava.net.preferIPv4Stack=true \
    -Djdk.nio.maxCachedBufferSize=1024 -Dio.netty.tryReflectionSetAccessible=true -Dlog4j2.disable.jmx=true \
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED \
    -cp "$NEO4J_JAR:$LAUNCHER/target/lib/*" apex.neo4j.Neo4jLauncher \
    "$SVC/neo4j" "$NEO4J_PORT" "$NEO4J_PAGECACHE_MB" >"$NEO4J_LOG" 2>&1 </dev/null 9>&- &
  echo $! >"$NEO4J_PIDFILE"

  local deadline=$((SECONDS + NEO4J_WAIT_SECONDS))
  until grep -q '^READY ' "$NEO4J_LOG" 2>/dev/null; do
    if ! neo4j_pid >/dev/null; then tail -30 "$NEO4J_LOG" >&2; die "neo4j exited during start (log: $NEO4J_LOG)"; fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -30 "$NEO4J_LOG" >&2
      die "neo4j not ready after ${NEO4J_WAIT_SECONDS}s (log: $NEO4J_LOG)"
    fi
    sleep 0.5
  done
  port_open "$NEO4J_PORT" || die "neo4j printed READY but port $NEO4J_PORT is closed"
  if neo4j_driver_available; then
    [ "$(neo4j_query 'RETURN 1')" = 1 ] || die "neo4j: Bolt query RETURN 1 failed (log: $NEO4J_LOG)"
  else
    log "neo4j: node_modules/neo4j-driver missing (run npm ci); trusting the launcher's own READY query"
  fi
  log "neo4j: ready on $HOST:$NEO4J_PORT"
}

neo4j_down() {
  local pid
  if pid="$(neo4j_pid)"; then
    log "neo4j: stopping…"
    kill -TERM "$pid" 2>/dev/null || true
    # The shutdown hook checkpoints and closes the store; give it time before forcing.
    for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "neo4j: did not stop within 60s, killing"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$NEO4J_PIDFILE"
}

neo4j_status() {
  local v=""
  if port_open "$NEO4J_PORT"; then
    if neo4j_driver_available; then
      v="$(neo4j_query 'CALL dbms.components() YIELD versions RETURN versions[0]' 2>/dev/null)" || v=""
    else
      v="$(sed -n 's/^READY .* neo4j //p' "$NEO4J_LOG" | tail -1)"
    fi
  fi
  if [ -n "$v" ]; then
    echo "neo4j     $HOST:$NEO4J_PORT  up    Neo4j $v (embedded)"
  else
    echo "neo4j     $HOST:$NEO4J_PORT  down"
    return 1
  fi
}

# ---------------------------------------------------------------- Qdrant Edge front

QDRANT_DIR="$REPO/services/qdrant-edge"
QDRANT_VENV="$SVC/qdrant-edge/venv"
QDRANT_PIDFILE="$SVC/run/qdrant-edge.pid"
QDRANT_LOG="$SVC/logs/qdrant-edge.log"
QDRANT_STAMP="$QDRANT_VENV/.apex-requirements-hash"

# GET / on the front names it; a real Qdrant or anything else on the port does not.
qdrant_front_answers() {
  curl -sf -m 3 "http://$HOST:$QDRANT_PORT/" 2>/dev/null | grep -q 'qdrant-edge front'
}

qdrant_install() {
  local want
  want="$(sha256sum "$QDRANT_DIR/requirements.txt" | cut -c1-64)"
  if [ -x "$QDRANT_VENV/bin/python" ] && [ "$(cat "$QDRANT_STAMP" 2>/dev/null)" = "$want" ]; then return 0; fi
  command -v python3 >/dev/null || apt_install python3
  command -v curl >/dev/null || apt_install curl
  log "qdrant-edge: creating venv and installing $(tr '\n' ' ' <"$QDRANT_DIR/requirements.txt")from PyPI…"
  rm -rf "$QDRANT_VENV"
  if ! python3 -m venv "$QDRANT_VENV" >>"$SVC/logs/qdrant-edge-install.log" 2>&1; then
    apt_install python3-venv
    python3 -m venv "$QDRANT_VENV" >>"$SVC/logs/qdrant-edge-install.log" 2>&1 || die "python3 -m venv failed"
  fi
  "$QDRANT_VENV/bin/pip" install -q --disable-pip-version-check -r "$QDRANT_DIR/requirements.txt" \
    >>"$SVC/logs/qdrant-edge-install.log" 2>&1 ||
    { tail -20 "$SVC/logs/qdrant-edge-install.log" >&2; die "pip install of the Qdrant Edge front failed"; }
  echo "$want" >"$QDRANT_STAMP"
}

qdrant_pid() {
  local pid
  pid="$(cat "$QDRANT_PIDFILE" 2>/dev/null)" || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -qa qdrant-edge "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

qdrant_up() {
  # Always installed, even when another checkout's front is reused: tests start private fronts too.
  qdrant_install
  if qdrant_front_answers; then
    if qdrant_pid >/dev/null; then log "qdrant-edge: already running on $HOST:$QDRANT_PORT"
    else log "qdrant-edge: a front not started by this checkout answers on $HOST:$QDRANT_PORT; reusing it"; fi
    return
  fi
  if port_open "$QDRANT_PORT"; then die "port $QDRANT_PORT is taken by something that is not the Qdrant Edge front"; fi
  log "qdrant-edge: starting…"
  mkdir -p "$SVC/qdrant-edge/data"
  PYTHONDONTWRITEBYTECODE=1 setsid nohup "$QDRANT_VENV/bin/python" "$QDRANT_DIR/server.py" --port "$QDRANT_PORT" \
    --data "$SVC/qdrant-edge/data" >"$QDRANT_LOG" 2>&1 </dev/null 9>&- &
  echo $! >"$QDRANT_PIDFILE"
  for _ in $(seq 1 300); do
    qdrant_front_answers && break
    qdrant_pid >/dev/null || { tail -20 "$QDRANT_LOG" >&2; die "qdrant-edge front exited during start (log: $QDRANT_LOG)"; }
    sleep 0.1
  done
  qdrant_front_answers || { tail -20 "$QDRANT_LOG" >&2; die "qdrant-edge front not ready after 30s (log: $QDRANT_LOG)"; }
  log "qdrant-edge: ready on $HOST:$QDRANT_PORT"
}

qdrant_down() {
  local pid
  if pid="$(qdrant_pid)"; then
    log "qdrant-edge: stopping…"
    kill -TERM "$pid" 2>/dev/null || true  # the front flushes and closes its shards on SIGTERM
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$QDRANT_PIDFILE"
}

qdrant_status() {
  local v
  if v="$(curl -sf -m 3 "http://$HOST:$QDRANT_PORT/" 2>/dev/null)" && grep -q 'qdrant-edge front' <<<"$v"; then
    echo "qdrant    $HOST:$QDRANT_PORT  up    Qdrant Edge front (qdrant-edge-py $(sed 's/.*==//' "$QDRANT_DIR/requirements.txt"); not the Qdrant server)"
  else
    echo "qdrant    $HOST:$QDRANT_PORT  down"
    return 1
  fi
}

# ---------------------------------------------------------------- PgBouncer
# Debian's pgbouncer in TRANSACTION mode in front of the test PostgreSQL (the fleet tests run the
# saga log through it: APEX_PG_POOLER=transaction). Its files live where user 'postgres' (which it
# runs as: it refuses root) can read them.

pgbouncer_dir() { printf '/var/tmp/apex-pgbouncer-%s' "$(printf '%s' "$REPO" | sha256sum | cut -c1-12)"; }
pgbouncer_running() { port_open "$PGBOUNCER_PORT"; }

pgbouncer_up() {
  [ -x /usr/sbin/pgbouncer ] || apt_install pgbouncer
  if pgbouncer_running; then log "pgbouncer: already running on $HOST:$PGBOUNCER_PORT"; return; fi
  local dir
  dir="$(pgbouncer_dir)"
  mkdir -p "$dir"
  printf '"apex" "apex"\n' >"$dir/userlist.txt"
  cat >"$dir/pgbouncer.ini" <<EOF
; Written by scripts/services.sh; rewritten on every start.
[databases]
apex_test = host=$HOST port=$PG_PORT dbname=apex_test
; Any other database (the tests create one per run) by the same name on the same server.
* = host=$HOST port=$PG_PORT
[pgbouncer]
listen_addr = $HOST
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
; SHOW POOLS / SHOW CLIENTS for apex on the admin console (bench/fleet-throughput.ts reads them).
stats_users = apex
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
  pg_chown -R "$dir"
  chmod 700 "$dir"
  log "pgbouncer: starting (transaction mode) on $HOST:$PGBOUNCER_PORT…"
  pg_as_owner /usr/sbin/pgbouncer -d "$dir/pgbouncer.ini" >/dev/null 2>&1 9>&- ||
    { tail -20 "$dir/pgbouncer.log" >&2 || true; die "pgbouncer did not start"; }
  local i
  for i in $(seq 1 50); do pgbouncer_running && break; sleep 0.1; done
  pgbouncer_running || die "pgbouncer does not answer on $HOST:$PGBOUNCER_PORT (log: $dir/pgbouncer.log)"
  log "pgbouncer: ready on $HOST:$PGBOUNCER_PORT"
}

pgbouncer_down() {
  local pidfile
  pidfile="$(pgbouncer_dir)/pgbouncer.pid"
  if [ -f "$pidfile" ]; then
    log "pgbouncer: stopping…"
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  fi
}

pgbouncer_status() {
  if pgbouncer_running; then
    echo "pgbouncer $HOST:$PGBOUNCER_PORT  up    transaction mode -> postgres $HOST:$PG_PORT"
  else
    echo "pgbouncer $HOST:$PGBOUNCER_PORT  down"
    return 1
  fi
}

# ---------------------------------------------------------------- commands

with_lock() {
  # Several test runs may call `up` at once; one at a time does the work, the others then find
  # everything running.
  mkdir -p "$SVC/run" "$SVC/logs"
  exec 9>"$SVC/run/lock"
  flock -w 900 9 || die "timed out waiting for another services.sh to finish"
}

cmd="${1:-}"
case "$cmd" in
  up)
    with_lock
    started=$SECONDS
    pg_up
    pgbouncer_up
    redis_up
    redis_cluster_up
    neo4j_up
    qdrant_up
    env_lines >"$SVC/env"
    log "services: all up in $((SECONDS - started))s; env in $SVC/env"
    ;;
  down)
    with_lock
    rc=0
    qdrant_down || rc=1
    neo4j_down || rc=1
    redis_cluster_down || rc=1
    redis_down || rc=1
    pgbouncer_down || rc=1
    pg_down || rc=1
    log "services: down"
    exit "$rc"
    ;;
  status)
    rc=0
    pg_status || rc=1
    pgbouncer_status || rc=1
    redis_status || rc=1
    redis_cluster_status || rc=1
    neo4j_status || rc=1
    qdrant_status || rc=1
    exit "$rc"
    ;;
  install)
    with_lock
    pg_ensure_installed
    [ -x /usr/sbin/pgbouncer ] || apt_install pgbouncer
    command -v redis-server >/dev/null || apt_install redis-server
    neo4j_build_if_needed
    qdrant_install
    log "services: installed"
    ;;
  env)
    env_lines
    ;;
  *)
    echo "usage: $0 up|install|down|status|env" >&2
    exit 2
    ;;
esac
