#!/usr/bin/env bash
# Every scale figure of benchmarks/README.md in one sitting, one run of each command, nothing
# else running: the pipeline against decode by scene size and band set, the regions on 1 and 2
# workers of a LocalCluster and on a scheduler started by hand, and the ledger matching on
# SQLite and PostGIS.
#
#   benchmarks/scale_sitting.sh OUT [PG_URL]
#   STEPS="regions matching" benchmarks/scale_sitting.sh OUT   # some steps only (default: all three)
#
# OUT gets one JSON (pipeline rows) or log (regions, matching) per command and `sitting.log`.
# PG_URL (default $LANDPATROL_TEST_PG_URL): a PostgreSQL with PostGIS for the matching
# benchmark; without one only SQLite is measured. Generated pairs are cached in
# /tmp/landpatrol-bench (the 30,000 px pair takes ~15 GB there); the first decode of a pair
# right after it is generated reads cold files, so each pipeline row is preceded by a warm-up
# decode whose figures are not kept.
set -euo pipefail
OUT=${1:?usage: benchmarks/scale_sitting.sh OUT [PG_URL]}
PG=${2:-${LANDPATROL_TEST_PG_URL:-}}
PY=${PYTHON:-.venv/bin/python}
STEPS=${STEPS:-pipeline regions matching}
has() { [[ " $STEPS " == *" $1 "* ]]; }
mkdir -p "$OUT"
log() { echo "$(date -u +%FT%TZ) $*" | tee -a "$OUT/sitting.log"; }
log "commit $(git rev-parse --short HEAD); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

pipeline_row() {  # NAME ARGS...
  local name=$1; shift
  "$PY" benchmarks/bench_pipeline.py "$@" --only decode > /dev/null   # warm the page cache
  log "pipeline $name: $*"
  "$PY" benchmarks/bench_pipeline.py "$@" --trace --json "$OUT/pipeline-$name.json" | tee -a "$OUT/sitting.log"
}

if has pipeline; then
  pipeline_row 2048 --size 2048
  pipeline_row 10980 --size 10980 --run
  pipeline_row 10980-6band-auto --size 10980 --bands 6 --detector auto --run
  pipeline_row 10980-4band-auto --size 10980 --detector auto
  pipeline_row 10980-1m-auto --size 10980 --pixel 1 --detector auto
  pipeline_row 30000 --size 30000
fi

if has regions; then
  # one Prefect API for the flow and every worker (docs/cluster.md): a worker without
  # PREFECT_API_URL starts a temporary Prefect server of its own, which takes CPU from the pairs
  export PREFECT_HOME=$(mktemp -d /tmp/landpatrol-prefect.XXXXXX) PREFECT_SERVER_ANALYTICS_ENABLED=false
  setsid .venv/bin/prefect server start --host 127.0.0.1 --port 4210 > "$OUT/prefect-server.log" 2>&1 &  # its own process group
  PREFECT_PID=$!
  export PREFECT_API_URL=http://127.0.0.1:4210/api
  for _ in $(seq 60); do "$PY" -c "import urllib.request as u; u.urlopen('$PREFECT_API_URL/health', timeout=2)" 2>/dev/null && break; sleep 1; done
  log "regions: LocalCluster 1 and 2 workers, then a scheduler started by hand (dask scheduler + dask worker --nworkers 2 --nthreads 1); Prefect API $PREFECT_API_URL"
  DASK=.venv/bin/dask
  "$DASK" scheduler --host 127.0.0.1 --port 8786 --no-dashboard > "$OUT/dask-scheduler.log" 2>&1 &
  SCHED=$!
  sleep 3
  "$DASK" worker tcp://127.0.0.1:8786 --nworkers 2 --nthreads 1 --no-dashboard > "$OUT/dask-worker.log" 2>&1 &
  WORKER=$!
  trap 'kill $WORKER $SCHED 2>/dev/null; kill -- -$PREFECT_PID 2>/dev/null || true' EXIT
  sleep 5
  "$PY" benchmarks/bench_region.py --size 4096 --pairs 8 --workers 1 2 --dask tcp://127.0.0.1:8786 2>&1 \
    | tee "$OUT/region-4096.log" | tee -a "$OUT/sitting.log"
  kill $WORKER $SCHED 2>/dev/null || true
  kill -- -$PREFECT_PID 2>/dev/null || true   # the server and its uvicorn child
  unset PREFECT_API_URL
fi

if has matching; then
  log "matching: 10,000 patches against 100,000 open leads"
  if [ -n "$PG" ]; then
    "$PY" benchmarks/bench_matching.py --pg "$PG" 2>&1 | tee "$OUT/matching.log" | tee -a "$OUT/sitting.log"
  else
    "$PY" benchmarks/bench_matching.py 2>&1 | tee "$OUT/matching.log" | tee -a "$OUT/sitting.log"
  fi
fi
log "done; load $(cut -d' ' -f1-3 /proc/loadavg)"
