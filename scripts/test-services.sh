#!/usr/bin/env bash
# Starts a private PostgreSQL and Redis on loopback in a scratch directory,
# runs the given command with DATABASE_URL and REDIS_URL pointing at them,
# and stops both afterwards. Never touches a server the user already runs.
#
#   scripts/test-services.sh COMMAND [ARG...]
set -euo pipefail

need_install=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || need_install+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need_install+=(redis-server)
if [ "${CLIENTBASE_SKIP_BROWSER:-0}" != "1" ]; then
  [ -x /usr/bin/chromium ] || need_install+=(chromium)
fi
if [ ${#need_install[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing ${need_install[*]} with apt-get..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_install[@]}" >/dev/null
    # Debian starts a system cluster on install; this run uses its own.
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  else
    echo "The tests need these packages: ${need_install[*]}." >&2
    echo "Install them (Debian/Ubuntu: sudo apt-get install ${need_install[*]}) and run again." >&2
    exit 1
  fi
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/clientbase-test.XXXXXX")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pg_port=$(free_port)
redis_port=$(free_port)

as_pg=()
if [ "$(id -u)" = "0" ]; then
  # PostgreSQL refuses to run as root: run it as the packaged postgres user.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$scratch"
  chmod 755 "$scratch"
  as_pg=(runuser -u postgres --)
fi

cleanup() {
  set +e
  [ -f "$scratch/pg/postmaster.pid" ] && "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$scratch/pg" -m immediate stop >/dev/null 2>&1
  [ -f "$scratch/redis.pid" ] && kill "$(cat "$scratch/redis.pid")" 2>/dev/null
  rm -rf "$scratch"
}
trap cleanup EXIT

"${as_pg[@]}" "$pg_bin/initdb" -D "$scratch/pg" -U clientbase --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$scratch/pg" -l "$scratch/pg.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $scratch -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=1GB -c work_mem=64MB -c maintenance_work_mem=512MB -c temp_buffers=256MB" \
  start >/dev/null
redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$scratch" --save "" --appendonly no \
  --daemonize yes --pidfile "$scratch/redis.pid" --logfile "$scratch/redis.log"
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

export DATABASE_URL="postgres://clientbase@127.0.0.1:$pg_port/clientbase"
export REDIS_URL="redis://127.0.0.1:$redis_port/0"
export CLIENTBASE_SCRATCH="$scratch"
"${as_pg[@]}" "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U clientbase clientbase
echo "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port (scratch: $scratch)"
"$@"
