#!/usr/bin/env bash
# The tracker beside its peers (../shared/peers) in one run, as the closing notes of issue 12
# report it:
#
#   bash bench/peers.sh            # N=100,000 on PostgreSQL, about 10 minutes once seeded
#
# 1. a PostgreSQL database (BENCH_PEER_DB, default bench_peer) migrated and filled by
#    bench/seed.py with N proposals (only when it holds none);
# 2. the tracker served twice under gunicorn with 2 sync workers: as shipped (pages kept) on
#    BENCH_PORT, and with TRACKER_PAGE_CACHE=0 (every page made afresh) on BENCH_PORT+1;
# 3. a session of bench@agency.lu (its sign-in message shown once, so later views are kept);
# 4. the harness's set-up (its virtualenv, role, databases and seed), then its runner with the
#    Django admin's and the one-query page's every page (bench/peer_pages.py) and the tracker's
#    pages as --target, all with the same wrk settings in the same run.
#
# Needs wrk, PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and root for the harness's
# role. Results: OUT (default /tmp/peer-bench)/results-<stamp>.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS="${PEERS_DIR:-$ROOT/../shared/peers}"
PEERS="$(cd "$PEERS" && pwd)"
N="${N:-100000}"
DB="${BENCH_PEER_DB:-bench_peer}"
PORT="${BENCH_PORT:-5100}"
OUT="${OUT:-/tmp/peer-bench}"
URL="postgresql+psycopg://postgres@127.0.0.1:5432/$DB"
PY="$ROOT/.venv/bin/python"

[[ -x "$PY" ]] || make -C "$ROOT" .venv/.installed-test > /dev/null
command -v wrk > /dev/null || { echo "wrk not found (apt-get install -y wrk)" >&2; exit 1; }

# 1. the tracker's data
if ! psql -h 127.0.0.1 -U postgres -d "$DB" -Atqc 'select 1' > /dev/null 2>&1; then
  psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE \"$DB\""
fi
(cd "$ROOT" && TRACKER_DATABASE_URL="$URL" "$PY" - "$N" <<'EOF'
import sys

import sqlalchemy as sa
from flask_migrate import upgrade

import bench.seed
from tracker import create_app
from tracker.extensions import db

app = create_app()
with app.app_context():
    upgrade()
    held = db.session.scalar(sa.text("SELECT count(*) FROM proposals"))
if held:
    print(f"[bench] {held:,} proposals already there")
else:
    bench.seed.seed(app, int(sys.argv[1]))
    print(f"[bench] seeded {int(sys.argv[1]):,} proposals")
EOF
)

# 2. the tracker, served twice
pids=()
stop() { for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done; }
trap stop EXIT
serve() {
  (cd "$ROOT" && exec env TRACKER_DATABASE_URL="$URL" "$@" "$ROOT/.venv/bin/gunicorn" --workers 2 \
    --bind "127.0.0.1:$port" 'tracker:create_app()' > "/tmp/bench-peers-$port.log" 2>&1) &
  pids+=("$!")
}
port=$PORT serve
port=$((PORT + 1)) serve TRACKER_PAGE_CACHE=0
for p in "$PORT" $((PORT + 1)); do
  for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$p/login" && break; sleep 0.2; done
done

# 3. a signed-in session (the same cookie works on both: the sessions are in the database)
jar="$(mktemp)"
base="http://127.0.0.1:$PORT"
token="$(curl -s -c "$jar" -b "$jar" "$base/login" \
  | grep -o 'name="csrf_token"[^>]*value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')"
curl -s -c "$jar" -b "$jar" -o /dev/null \
  --data-urlencode "csrf_token=$token" --data-urlencode "email=bench@agency.lu" \
  --data-urlencode "password=bench-password-1" "$base/login"
curl -s -c "$jar" -b "$jar" -o /dev/null "$base/review/proposals?per_page=50"
sid="$(awk '$6 == "session" {print $7}' "$jar")"
rm -f "$jar"
[[ -n "$sid" ]] || { echo "could not sign in as bench@agency.lu" >&2; exit 1; }

# 4. the harness's set-up (no page measured), then every page in one run
PEER_KEEP_VENV="${PEER_KEEP_VENV:-1}" bash "$PEERS/run_peers.sh" --sizes "$N" --skip-peers \
  --no-db-ceilings --outdir "$OUT" > /dev/null
kept="$base/review/proposals"
afresh="http://127.0.0.1:$((PORT + 1))/review/proposals"
PEERS_DIR="$PEERS" /tmp/peer-venv/bin/python "$ROOT/bench/peer_pages.py" --sizes "$N" \
  --app-dir "$ROOT" --app-backends "" --outdir "$OUT" --target-cookie "session=$sid" \
  --target "first=$kept?per_page=50" \
  --target "filtered=$kept?per_page=50&status=rejected&sector=1" \
  --target "search=$kept?per_page=50&q=project%2099" \
  --target "page1000=$kept?per_page=50&page=1000" \
  --target "last=$kept?per_page=50&page=99999" \
  --target "title=$kept?per_page=50&sort=title" \
  --target "proposal=$kept/5000" \
  --target "mywork=$base/review/my-work" \
  --target "afresh_first=$afresh?per_page=50" \
  --target "afresh_filtered=$afresh?per_page=50&status=rejected&sector=1" \
  --target "afresh_search=$afresh?per_page=50&q=project%2099" \
  --target "afresh_page1000=$afresh?per_page=50&page=1000" \
  --target "afresh_proposal=$afresh/5000"
