#!/usr/bin/env bash
# Local CKAN catalog stack, no Docker: PostgreSQL + Redis (Debian), Apache Solr 9 (Maven
# Central, run by catalog/solr), CKAN + ckanext-scheming + ckanext-dcat (PyPI), all on 127.0.0.1.
#
#   catalog/stack.sh up       install what is missing, start what is not running (idempotent)
#   catalog/stack.sh down     stop what `up` started (by PID file); data is kept
#   catalog/stack.sh status   one line per component: name, state, pid, URL
#   catalog/stack.sh token    print the sysadmin API token (the only command that prints it)
#
# Everything lives under $ZWGK_CKAN_HOME (default ~/.local/share/zwgk-ckan); ports and
# versions are overridable, see the settings below and catalog/README.md.
# Progress goes to stderr; `up` prints key=value lines (urls, token file) on stdout.
# A failure prints "FAILED <component>" and the tail of that component's log, exits 1.
set -euo pipefail
shopt -s inherit_errexit   # errors inside $(...) abort too
# Everything stack.sh creates is its user's alone: ckan.ini holds the secrets that sign API tokens
# and the database password (see harden_permissions for what already exists).
umask 077

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BASE=${ZWGK_CKAN_HOME:-$HOME/.local/share/zwgk-ckan}

CKAN_VERSION=${ZWGK_CKAN_VERSION:-2.12.0}
SCHEMING_VERSION=3.1.0
DCAT_VERSION=2.4.4
PYTHON=${ZWGK_CKAN_PYTHON:-python3}           # CKAN 2.12 needs Python >= 3.10

CKAN_PORT=${ZWGK_CKAN_PORT:-5000}
SOLR_PORT=${ZWGK_CKAN_SOLR_PORT:-8983}
PG_PORT=${ZWGK_CKAN_PG_PORT:-5433}
REDIS_PORT=${ZWGK_CKAN_REDIS_PORT:-6380}
# Small heap, serial GC and C1-only JIT: a dev-size index; boots in ~4 s instead of ~6 s
# and takes ~150 MB instead of ~215 MB.
SOLR_JAVA_OPTS=${ZWGK_CKAN_SOLR_JAVA_OPTS:--Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}
# Chinese text analysis of the search index: one of catalog/solr/analyzers/*.xml (cjk, icu,
# smartcn); cjk scored best on catalog/search_queries.yaml (recall@3 in catalog/README.md).
SOLR_ANALYZER=${ZWGK_CKAN_SOLR_ANALYZER:-cjk}

CKAN_URL=http://127.0.0.1:$CKAN_PORT
SOLR_URL=http://127.0.0.1:$SOLR_PORT/solr/ckan
REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0

RUN=$BASE/run                 # PID files, server logs, token
ETC=$BASE/etc                 # ckan.ini and generated secrets
VENV=$BASE/venv
INI=$ETC/ckan.ini
PGDATA=$BASE/pg/data
SOLR_BUILD=$BASE/solr/build   # copy of catalog/solr, built with Maven
SOLR_JAR=$SOLR_BUILD/target/zwgk-solr.jar
SOLR_HOME=$BASE/solr/home
M2_REPO=${ZWGK_CKAN_M2_REPO:-$BASE/m2}
ADMIN="admin"               # the sysadmin whose token the stack hands out

# ---- helpers -------------------------------------------------------------------------

log() { printf '[ckan-stack %s] %s\n' "$(date +%T)" "$*" >&2; }

# fail COMPONENT LOGFILE MESSAGE: the line local.py parses, then the log tail.
fail() {
  log "FAILED $1: $3"
  if [ -s "$2" ]; then
    log "last lines of $2:"
    tail -n 40 "$2" >&2
  fi
  exit 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_alive PIDFILE PATTERN: the recorded process exists and its command line matches
# (guards against a stale PID file whose number was reused by an unrelated process).
pid_alive() {
  local cmdline
  [ -s "$1" ] || return 1
  cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$(<"$1")/cmdline") || return 1
  [[ $cmdline == *"$2"* ]]
}

# A zombie counts as gone: it has exited and only waits for init to reap it.
pid_gone() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || true
  [ -z "$state" ] || [ "$state" = Z ]
}

# wait_until SECONDS COMMAND...: poll every 0.25 s.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.25
  done
}

# wait_started NAME LOG PIDFILE PATTERN URL READY_COMMAND...: wait up to 120 s for a server
# we just launched; give up at once if its process dies (the log says why).
wait_started() {
  local name=$1 logfile=$2 pidfile=$3 pattern=$4 url=$5 deadline=$((SECONDS + 120))
  shift 5
  until "$@"; do
    pid_alive "$pidfile" "$pattern" || fail "$name" "$logfile" "$name exited during startup"
    if [ "$SECONDS" -ge "$deadline" ]; then
      stop_pid "$name" "$pidfile" "$pattern"
      fail "$name" "$logfile" "$name did not answer at $url within 120 s"
    fi
    sleep 0.25
  done
}

http_ok() { curl -sf -o /dev/null --max-time 5 "$1"; }

# Refuse to start on a port someone else already serves: we would talk to a stranger.
require_free_port() {
  if port_open "$2"; then
    fail "$1" /dev/null "port $2 is in use by a process stack.sh did not start; stop it or set the port variable (see catalog/README.md)"
  fi
}

# stop_pid NAME PIDFILE PATTERN: TERM the process group, wait, then KILL.
stop_pid() {
  local pid
  if ! pid_alive "$2" "$3"; then
    rm -f "$2"
    return 0
  fi
  pid=$(<"$2")
  log "stopping $1 (pid $pid)"
  # The whole process group where it leads one (setsid), else the process alone.
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  if ! wait_until 30 pid_gone "$pid"; then
    log "$1 did not exit in 30 s, killing it"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$2"
}

# PostgreSQL refuses to run as root: as root, its tools run as the `postgres` user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
  local bin=${ZWGK_CKAN_PG_BIN:-}
  [ -n "$bin" ] || bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  echo "$bin"
}

psql_admin() { psql -h "$BASE/pg" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

ckan_cli() { "$VENV/bin/ckan" -c "$INI" "$@"; }

# secret FILE: a random value generated once and kept (mode 600).
secret() {
  if [ ! -s "$1" ]; then
    (umask 077 && "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(24))' >"$1")
  fi
  cat "$1"
}

# ---- install -------------------------------------------------------------------------

install_debian_packages() {
  local need=() p
  for p in postgresql redis-server libpq-dev gcc curl; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  command -v java >/dev/null || need+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null || need+=(maven)
  # root's home is private (0700): setfacl grants the postgres user passage to $BASE/pg
  [ "$(id -u)" != 0 ] || command -v setfacl >/dev/null || need+=(acl)
  ((${#need[@]})) || return 0
  [ "$(id -u)" = 0 ] || fail apt /dev/null "missing Debian packages, install them: sudo apt-get install ${need[*]}"
  log "apt-get install ${need[*]}"
  # Wait for, rather than fail on, another apt/dpkg run holding the lock.
  apt-get -o DPkg::Lock::Timeout=300 update -qq >"$RUN/apt.log" 2>&1 \
    || fail apt "$RUN/apt.log" "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${need[@]}" \
    >>"$RUN/apt.log" 2>&1 \
    || fail apt "$RUN/apt.log" "apt-get install failed"
}

# The venv is (re)installed when the wanted versions differ from the ones it was made with.
install_ckan_venv() {
  local want=("ckan[requirements]==$CKAN_VERSION" "ckanext-scheming==$SCHEMING_VERSION"
    "ckanext-dcat==$DCAT_VERSION")
  [ "$(cat "$VENV/.zwgk-requirements" 2>/dev/null)" = "${want[*]}" ] && return 0
  log "installing ${want[*]} into $VENV"
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || fail ckan /dev/null "$PYTHON is older than 3.10; set ZWGK_CKAN_PYTHON"
  {
    "$PYTHON" -m venv "$VENV" &&
      "$VENV/bin/pip" install -q --upgrade pip setuptools wheel &&
      "$VENV/bin/pip" install -q "${want[@]}"
  } >"$RUN/pip.log" 2>&1 || fail ckan "$RUN/pip.log" "pip install failed"
  echo "${want[*]}" >"$VENV/.zwgk-requirements"
}

# Builds catalog/solr into $SOLR_BUILD when its sources changed since the last build.
build_solr() {
  local hash
  hash=$(cd "$HERE/solr" && find pom.xml src -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)
  [ -f "$SOLR_JAR" ] && [ "$(cat "$SOLR_BUILD/.zwgk-sources" 2>/dev/null)" = "$hash" ] && return 0
  log "building Solr launcher with Maven (dependencies cached in $M2_REPO)"
  rm -rf "$SOLR_BUILD"
  mkdir -p "$SOLR_BUILD"
  cp -r "$HERE/solr/pom.xml" "$HERE/solr/src" "$SOLR_BUILD/"
  (cd "$SOLR_BUILD" && mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$M2_REPO" package) >"$BASE/solr/build.log" 2>&1 \
    || fail solr "$BASE/solr/build.log" "maven build failed"
  echo "$hash" >"$SOLR_BUILD/.zwgk-sources"
}

# ---- solr ----------------------------------------------------------------------------

# Lays out the Solr home: solr.xml + core `ckan` with CKAN's own schema.xml (taken from the
# installed ckan package, so it always matches the CKAN version) whose text field types get the
# Chinese analyzers of catalog/solr/analyzers/$SOLR_ANALYZER.xml (catalog/solr_schema.py), and
# our solrconfig.xml. Prints "changed" when the core config differs from what is installed.
sync_solr_home() {
  local conf=$SOLR_HOME/ckan/conf schema analyzers=$HERE/solr/analyzers/$SOLR_ANALYZER.xml before after
  [ -f "$analyzers" ] || fail solr /dev/null "ZWGK_CKAN_SOLR_ANALYZER=$SOLR_ANALYZER: no $analyzers (choose one of: $(cd "$HERE/solr/analyzers" && ls | sed 's/\.xml$//' | tr '\n' ' '))"
  schema=$("$VENV/bin/python" -c 'import ckan, os; print(os.path.join(os.path.dirname(ckan.__file__), "config/solr/schema.xml"))')
  mkdir -p "$conf"
  before=$(find "$conf" -type f -exec cat {} + | sha256sum)
  cp "$HERE/solr/solr.xml" "$SOLR_HOME/solr.xml"
  cp "$HERE/solr/conf/"* "$conf/"
  "$VENV/bin/python" "$HERE/solr_schema.py" "$schema" "$analyzers" >"$conf/schema.xml.new" 2>"$BASE/solr/schema.log" \
    || fail solr "$BASE/solr/schema.log" "could not derive the Chinese schema from $schema"
  mv "$conf/schema.xml.new" "$conf/schema.xml"
  echo "name=ckan" >"$SOLR_HOME/ckan/core.properties"
  after=$(find "$conf" -type f -exec cat {} + | sha256sum)
  [ "$before" = "$after" ] || echo changed
}

solr_running() { pid_alive "$RUN/solr.pid" zwgk-solr.jar; }
solr_ready() { solr_running && http_ok "$SOLR_URL/admin/ping"; }

# Starts Solr in the background and returns at once (it takes ~10 s to load); the caller
# does other work and then calls wait_solr.
start_solr() {
  local changed
  changed=$(sync_solr_home)
  if [ "$changed" = changed ] && solr_running; then
    log "Solr core config changed: restarting Solr"
    stop_solr
  fi
  solr_running && return 0
  pid_alive "$RUN/solr.starting" zwgk-solr.jar && return 0   # an earlier `up` is booting it
  require_free_port solr "$SOLR_PORT"
  log "starting solr on 127.0.0.1:$SOLR_PORT"
  echo "==== stack.sh: starting solr $(date -Is)" >>"$BASE/solr/solr.log"
  # ZwgkSolr writes solr.pid itself once the core is loaded; "solr.starting" holds the
  # launcher's pid meanwhile so a failed start can be cleaned up.
  # shellcheck disable=SC2086  # SOLR_JAVA_OPTS is a list of JVM flags
  setsid nohup java $SOLR_JAVA_OPTS -Dsolr.log.dir="$BASE/solr" -Dsolr.install.dir="$SOLR_BUILD/target" \
    -jar "$SOLR_JAR" "$SOLR_HOME" "$SOLR_PORT" "$RUN/solr.pid" >>"$BASE/solr/solr.log" 2>&1 </dev/null &
  echo $! >"$RUN/solr.starting"
}

wait_solr() {
  if [ -f "$RUN/solr.starting" ]; then
    wait_started solr "$BASE/solr/solr.log" "$RUN/solr.starting" zwgk-solr.jar "$SOLR_URL" solr_ready
    rm -f "$RUN/solr.starting"
  fi
  solr_ready || fail solr "$BASE/solr/solr.log" "Solr is not answering at $SOLR_URL/admin/ping"
}

stop_solr() { stop_pid solr "$RUN/solr.pid" zwgk-solr.jar; }

# After the core's schema changed, the datasets already indexed were analysed the old way:
# re-index them all, once per schema (the stamp is the hash of the installed schema.xml).
reindex_if_schema_changed() {
  local stamp
  stamp=$(sha256sum <"$SOLR_HOME/ckan/conf/schema.xml")
  [ "$(cat "$ETC/search-index.applied" 2>/dev/null)" = "$stamp" ] && return 0
  log "Solr schema changed: rebuilding the search index (ckan search-index rebuild)"
  ckan_cli search-index rebuild -q >"$RUN/search-index.log" 2>&1 \
    || fail ckan "$RUN/search-index.log" "ckan search-index rebuild failed"
  echo "$stamp" >"$ETC/search-index.applied"
}

# ---- postgres ------------------------------------------------------------------------

pg_running() { as_pg "$(pg_bin)/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

# As root the cluster is owned by `postgres`, which must be able to reach $BASE/pg even
# when it sits in root's private home: grant it search (x) permission on each directory on
# the way that it cannot cross, top down, and nothing more.
grant_postgres_passage() {
  local dir="" part
  local -a parts
  IFS=/ read -ra parts <<<"${BASE#/}"
  for part in "${parts[@]}"; do
    dir=$dir/$part
    if ! runuser -u postgres -- test -x "$dir"; then
      log "granting user postgres search permission on $dir (ACL u:postgres:x)"
      setfacl -m u:postgres:x "$dir"
    fi
  done
}

start_postgres() {
  local bin
  bin=$(pg_bin)
  [ -x "$bin/pg_ctl" ] || fail postgres /dev/null "no PostgreSQL server binaries under /usr/lib/postgresql"
  mkdir -p "$BASE/pg"
  if [ "$(id -u)" = 0 ]; then
    grant_postgres_passage
    chown postgres:postgres "$BASE/pg"
  fi
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    log "initdb $PGDATA"
    as_pg "$bin/initdb" -D "$PGDATA" -E UTF8 --locale=C.UTF-8 --auth-local=trust \
      --auth-host=scram-sha-256 -U postgres >"$BASE/pg/initdb.log" 2>&1 \
      || fail postgres "$BASE/pg/initdb.log" "initdb failed"
  fi
  if ! pg_running; then
    require_free_port postgres "$PG_PORT"
    log "starting postgres on 127.0.0.1:$PG_PORT"
    # The Unix socket goes in $BASE/pg, so the cluster never touches /var/run/postgresql.
    as_pg "$bin/pg_ctl" -D "$PGDATA" -l "$BASE/pg/postgres.log" -w -t 60 \
      -o "-p $PG_PORT -k $BASE/pg -c listen_addresses=127.0.0.1" start >"$BASE/pg/pg_ctl.log" 2>&1 \
      || fail postgres "$BASE/pg/postgres.log" "pg_ctl start failed (its own output: $BASE/pg/pg_ctl.log)"
  fi
  create_ckan_database
}

create_ckan_database() {
  local pw
  pw=$(secret "$ETC/db-password")
  if [ -z "$(psql_admin -c "select 1 from pg_roles where rolname = 'ckan_default'")" ]; then
    printf "CREATE ROLE ckan_default LOGIN PASSWORD '%s';\n" "$pw" | psql_admin >/dev/null  # stdin: not in ps
  fi
  if [ -z "$(psql_admin -c "select 1 from pg_database where datname = 'ckan_default'")" ]; then
    log "creating database ckan_default"
    psql_admin -c "CREATE DATABASE ckan_default OWNER ckan_default ENCODING 'UTF8' TEMPLATE template0" >/dev/null
  fi
}

# ---- datastore -----------------------------------------------------------------------

# The DataStore (the queryable tables behind the resource previews) lives in its own
# database, owned by ckan_default (CKAN writes through it) and read through a login role that
# may only SELECT there: datastore_search_sql runs the public's SQL as that role.
create_datastore_database() {
  local pw
  chmod 700 "$ETC"   # the passwords in it are the owner's alone
  pw=$(secret "$ETC/datastore-ro-password")
  if [ -z "$(psql_admin -c "select 1 from pg_roles where rolname = 'datastore_ro'")" ]; then
    # On stdin, not in psql's arguments: a command line is visible to every local user (ps).
    printf "CREATE ROLE datastore_ro LOGIN PASSWORD '%s' NOSUPERUSER NOCREATEDB NOCREATEROLE;\n" "$pw" | psql_admin >/dev/null
  fi
  if [ -z "$(psql_admin -c "select 1 from pg_database where datname = 'datastore_default'")" ]; then
    log "creating database datastore_default"
    psql_admin -c "CREATE DATABASE datastore_default OWNER ckan_default ENCODING 'UTF8' TEMPLATE template0" >/dev/null
  fi
  # Only its owner may connect to CKAN's own database, so the read-only role reaches nothing but the DataStore.
  psql_admin -c "REVOKE CONNECT ON DATABASE ckan_default FROM PUBLIC" >/dev/null
}

datastore_settings() {
  cat <<EOF
ckan.datastore.write_url=postgresql://ckan_default:$(secret "$ETC/db-password")@127.0.0.1:$PG_PORT/datastore_default
ckan.datastore.read_url=postgresql://datastore_ro:$(secret "$ETC/datastore-ro-password")@127.0.0.1:$PG_PORT/datastore_default
ckan.datastore.sqlsearch.enabled=true
EOF
}

# The read-only role's grants, as CKAN itself writes them (`ckan datastore set-permissions`),
# run by the superuser: once per CKAN version, or again when the database lacks them.
set_datastore_permissions() {
  if [ "$(cat "$ETC/datastore.applied" 2>/dev/null)" = "$CKAN_VERSION" ] &&
    [ -n "$(psql_admin -d datastore_default -c "select 1 from pg_tables where tablename = '_table_stats'")" ]; then
    return 0
  fi
  log "setting DataStore permissions (read-only role datastore_ro)"
  { ckan_cli datastore set-permissions | psql_admin; } >"$RUN/datastore-permissions.log" 2>&1 \
    || fail datastore "$RUN/datastore-permissions.log" "ckan datastore set-permissions failed"
  echo "$CKAN_VERSION" >"$ETC/datastore.applied"
}

stop_postgres() {
  [ -f "$PGDATA/PG_VERSION" ] && pg_running || return 0
  log "stopping postgres"
  as_pg "$(pg_bin)/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
}

# ---- redis ---------------------------------------------------------------------------

redis_running() { pid_alive "$RUN/redis.pid" redis-server; }

start_redis() {
  redis_running && return 0
  require_free_port redis "$REDIS_PORT"
  log "starting redis on 127.0.0.1:$REDIS_PORT"
  mkdir -p "$BASE/redis"
  # CKAN uses Redis as a cache and job queue only: no persistence.
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$BASE/redis" \
    --pidfile "$RUN/redis.pid" --logfile "$BASE/redis/redis.log" --save "" --appendonly no \
    || fail redis "$BASE/redis/redis.log" "redis-server failed to start"
  wait_until 10 port_open "$REDIS_PORT" || fail redis "$BASE/redis/redis.log" "redis did not open port $REDIS_PORT"
}

stop_redis() { stop_pid redis "$RUN/redis.pid" redis-server; }

# ---- ckan ----------------------------------------------------------------------------

# The settings stack.sh owns in ckan.ini; everything else in the file is left alone.
# Resources in the DataStore get a DataTables preview (CKAN's image_view is not loaded).
ckan_settings() {
  cat <<EOF
sqlalchemy.url=postgresql://ckan_default:$(secret "$ETC/db-password")@127.0.0.1:$PG_PORT/ckan_default
ckan.site_url=$CKAN_URL
ckan.site_title=zwgk 政务公开数据目录
solr_url=$SOLR_URL
ckan.redis.url=$REDIS_URL
ckan.storage_path=$BASE/storage
ckan.max_resource_size=100
ckan.plugins=activity scheming_datasets dcat datastore datatables_view
ckan.views.default_views=datatables_view
$(datastore_settings)
scheming.dataset_schemas=file://$HERE/schemas/zwgk_dataset.yaml
scheming.presets=ckanext.scheming:presets.json
ckan.site_description=滨海新区各单位政府信息公开目录、政务公开评估记分卡和数据字典
ckan.locale_default=zh_Hans_CN
ckan.locales_offered=zh_Hans_CN en
extra_template_paths=$HERE/templates
EOF
}

# ckan.ini is generated once and kept: its secrets sign the API tokens. Returns "changed"
# when the settings (or the dataset schema and templates they point at) differ from the applied ones.
configure_ckan() {
  local settings stamp lines
  mkdir -p "$BASE/storage"
  if [ ! -f "$INI" ]; then
    log "generating $INI"
    "$VENV/bin/ckan" generate config "$INI" >"$RUN/ckan-config.log" 2>&1 \
      || fail ckan "$RUN/ckan-config.log" "ckan generate config failed"
  fi
  settings=$(ckan_settings)
  stamp=$(printf '%s\n' "$settings" | cat - "$HERE/schemas/zwgk_dataset.yaml" "$HERE"/templates/*.html | sha256sum)
  [ "$(cat "$ETC/ckan.ini.applied" 2>/dev/null)" = "$stamp" ] && return 0
  log "writing stack settings into $INI"
  mapfile -t lines <<<"$settings"
  "$VENV/bin/ckan" config-tool "$INI" "${lines[@]}" >"$RUN/ckan-config.log" 2>&1 \
    || fail ckan "$RUN/ckan-config.log" "ckan config-tool failed"
  echo "$stamp" >"$ETC/ckan.ini.applied"
  echo changed
}

# Creates/migrates the tables once per CKAN version and plugin list, or when the database
# has no CKAN tables (each CKAN CLI call takes seconds, too slow for every `up`).
migrate_ckan_db() {
  local want
  want=$(grep '^ckan.plugins' <<<"$(ckan_settings)" | sha256sum)
  want="$CKAN_VERSION $want"
  if [ "$(cat "$ETC/db.applied" 2>/dev/null)" = "$want" ] &&
    [ -n "$(psql_admin -d ckan_default -c "select 1 from pg_tables where tablename = 'package'")" ]; then
    return 0
  fi
  log "initialising / migrating the CKAN database"
  { ckan_cli db init && ckan_cli db upgrade -p activity; } >"$RUN/db-init.log" 2>&1 \
    || fail ckan "$RUN/db-init.log" "ckan db init failed"
  echo "$want" >"$ETC/db.applied"
}

ckan_running() { pid_alive "$RUN/ckan.pid" "$INI run"; }
ckan_ready() { http_ok "$CKAN_URL/api/3/action/status_show"; }
ckan_up() { ckan_running && ckan_ready; }

start_ckan() {
  if [ "${1:-}" = changed ] && ckan_running; then
    log "CKAN settings changed: restarting CKAN"
    stop_ckan
  fi
  ckan_running && return 0
  require_free_port ckan "$CKAN_PORT"
  log "starting ckan $CKAN_VERSION on $CKAN_URL"
  echo "==== stack.sh: starting ckan $(date -Is)" >>"$RUN/ckan.log"
  # Werkzeug server without reloader (so $! is the server), threaded.
  setsid nohup "$VENV/bin/ckan" -c "$INI" run -H 127.0.0.1 -p "$CKAN_PORT" -r -t \
    >>"$RUN/ckan.log" 2>&1 </dev/null &
  echo $! >"$RUN/ckan.pid"
  wait_started ckan "$RUN/ckan.log" "$RUN/ckan.pid" "$INI run" "$CKAN_URL" ckan_ready
}

stop_ckan() { stop_pid ckan "$RUN/ckan.pid" "$INI run"; }

# ---- sysadmin and API token ----------------------------------------------------------

token_valid() {
  [ -s "$RUN/token" ] || return 1
  # The token goes in a header from Python, never on a command line or in a log.
  "$VENV/bin/python" - "$RUN/token" "$CKAN_URL" "$ADMIN" <<'PY'
import json, sys, urllib.request
token_file, url, user = sys.argv[1:]
req = urllib.request.Request(f"{url}/api/3/action/user_show?id={user}",
                             headers={"Authorization": open(token_file).read().strip()})
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        sys.exit(0 if json.load(r)["result"].get("sysadmin") else 1)
except Exception:
    sys.exit(1)
PY
}

ensure_admin_token() {
  token_valid && return 0
  if [ -z "$(psql_admin -d ckan_default -c "select 1 from \"user\" where name = '$ADMIN' and state = 'active'")" ]; then
    log "creating sysadmin $ADMIN (password in $RUN/admin-password)"
    ckan_cli user add "$ADMIN" email="$ADMIN@zwgk.invalid" password="$(secret "$RUN/admin-password")" \
      >"$RUN/admin.log" 2>&1 || fail ckan "$RUN/admin.log" "ckan user add failed"
  fi
  ckan_cli sysadmin add "$ADMIN" >"$RUN/admin.log" 2>&1 || fail ckan "$RUN/admin.log" "ckan sysadmin add failed"
  log "creating API token for $ADMIN in $RUN/token"
  # `user token add` prints the token on its last line; it goes straight to a 600 file.
  (umask 077 && ckan_cli user token add "$ADMIN" "stack-$(date +%Y%m%d%H%M%S)" 2>>"$RUN/admin.log" \
    | tail -n1 | tr -d '[:space:]' >"$RUN/token.new")
  [ -s "$RUN/token.new" ] || fail ckan "$RUN/admin.log" "ckan user token add printed no token"
  mv "$RUN/token.new" "$RUN/token"
  token_valid || fail ckan "$RUN/ckan.log" "the new API token is not accepted by CKAN"
}

# ---- commands ------------------------------------------------------------------------

# Owner-only config, secrets, logs and data, also for a base dir made by an older stack.sh
# (umask 077 covers what is created from now on). $BASE itself is left alone: as root, PostgreSQL
# runs as `postgres` and reaches pg/ through an ACL on $BASE that chmod would mask
# (grant_postgres_passage). pg/ (owned by the cluster's user) holds the Unix socket, which trusts
# local connections: owner-only too; initdb makes the data directory in it 700.
harden_permissions() {
  local dir
  for dir in "$ETC" "$RUN" "$BASE/storage" "$BASE/solr" "$BASE/redis"; do
    [ -d "$dir" ] && chmod -R go-rwx "$dir"
  done
  [ -d "$BASE/pg" ] && chmod 700 "$BASE/pg"
  return 0
}

cmd_up() {
  local started=$SECONDS config
  harden_permissions
  install_debian_packages
  install_ckan_venv
  build_solr
  start_solr                   # boots in the background while the rest is set up
  start_postgres
  create_datastore_database
  start_redis
  config=$(configure_ckan)
  migrate_ckan_db
  set_datastore_permissions
  wait_solr
  start_ckan "$config"
  ensure_admin_token
  reindex_if_schema_changed
  log "up in $((SECONDS - started)) s: CKAN $CKAN_URL, Solr $SOLR_URL, token in $RUN/token"
  printf 'ckan_url=%s\nsolr_url=%s\ntoken_file=%s\n' "$CKAN_URL" "$SOLR_URL" "$RUN/token"
}

cmd_down() {
  stop_ckan
  stop_pid solr "$RUN/solr.starting" zwgk-solr.jar
  stop_solr
  stop_redis
  stop_postgres
  log "down (data kept in $BASE)"
}

# status_line NAME STATE PIDFILE URL
status_line() {
  local pid=-
  [ "$2" = running ] && [ -s "$3" ] && pid=$(head -n1 "$3")
  printf '%-9s %-8s %-8s %s\n' "$1" "$2" "$pid" "$4"
}

state() { if "$@"; then echo running; else echo stopped; fi; }

cmd_status() {
  local all=0
  status_line postgres "$(state pg_running)" "$PGDATA/postmaster.pid" \
    "postgresql://ckan_default@127.0.0.1:$PG_PORT/ckan_default"
  status_line redis "$(state redis_running)" "$RUN/redis.pid" "$REDIS_URL"
  status_line solr "$(state solr_ready)" "$RUN/solr.pid" "$SOLR_URL"
  status_line ckan "$(state ckan_up)" "$RUN/ckan.pid" "$CKAN_URL"
  printf '%-9s %-8s %-8s %s\n' token "$([ -s "$RUN/token" ] && echo present || echo missing)" - "$RUN/token"
  pg_running && redis_running && solr_ready && ckan_up || all=3
  return "$all"
}

cmd_token() {
  [ -s "$RUN/token" ] || { log "no token yet: run catalog/stack.sh up"; exit 1; }
  cat "$RUN/token"
}

main() {
  mkdir -p "$RUN" "$ETC" "$BASE/solr"
  case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    token) cmd_token ;;
    *) echo "usage: $0 up|down|status|token" >&2; exit 2 ;;
  esac
}

main "$@"
