#!/usr/bin/env bash
# Runs the benchmarks of one suite or all of them, and regenerates their results sections of benchmarks/README.md
# (and, for the in-memory suite, the chart benchmarks/turn-cost.png). See benchmarks/README.md.
#
# Suites (SUITE=...):
#   memory  AgentTurnBenchmark, FloorBenchmark, InMemoryAppendBenchmark   -> benchmarks/results/jmh-memory.json
#   jdbc    JdbcAgentTurnBenchmark (retention=none), JdbcFloorBenchmark,
#           JdbcAppendBenchmark; oneThread only; PostgreSQL and H2       -> benchmarks/results/jmh-jdbc.json
#   redis   RedisAgentTurnBenchmark, RedisFloorBenchmark, RedisAppendBenchmark; oneThread only
#                                                                         -> benchmarks/results/jmh-redis.json
#   all     the three, in this order (the default)
#
# Settings (environment variables, with their defaults):
#   SUITE=all    which suite(s) to run: memory, jdbc, redis or all
#   FORKS=1      JMH forks per benchmark and parameter set
#   WARMUP=6     warm-up iterations per fork (a session of 20000 messages needs about 4 to reach its steady state)
#   ITER=5       measurement iterations per fork
#   TIME=2s      length of each warm-up and measurement iteration (JMH syntax: 500ms, 2s, 1m)
#   JMH_ARGS=    further JMH options, appended as given, e.g. JMH_ARGS="-p n=20,2000" (the estimate ignores them)
#   SKIP_BUILD=  set to 1 to reuse benchmarks/target/benchmarks.jar
#   MEMORY_TEST_PG_URL=jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres
#                the PostgreSQL server of the jdbc suite (it creates and keeps databases agentmemory_bench_* there)
#   MEMORY_TEST_REDIS_URL=redis://127.0.0.1:6379   the Redis server of the redis suite
#   H2_DIR=      directory of the jdbc suite's H2 files (default: <java.io.tmpdir>/agentmemory-bench); put it on a
#                real disk, not a tmpfs, and keep it between runs: the 1,000,000-row database is loaded only once
#
# Example, a smoke run that only proves the pipeline works: FORKS=1 WARMUP=1 ITER=1 TIME=1s benchmarks/run.sh
set -euo pipefail

SUITE="${SUITE:-all}"
FORKS="${FORKS:-1}"
WARMUP="${WARMUP:-6}"
ITER="${ITER:-5}"
TIME="${TIME:-2s}"
JMH_ARGS="${JMH_ARGS:-}"
SKIP_BUILD="${SKIP_BUILD:-}"
H2_DIR="${H2_DIR:-}"
# Read by the benchmarks in the forked JVMs.
export MEMORY_TEST_PG_URL="${MEMORY_TEST_PG_URL:-jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres}"
export MEMORY_TEST_REDIS_URL="${MEMORY_TEST_REDIS_URL:-redis://127.0.0.1:6379}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

jar=benchmarks/target/benchmarks.jar

case "$SUITE" in
  memory | jdbc | redis) suites=("$SUITE") ;;
  all) suites=(memory jdbc redis) ;;
  *) echo "SUITE must be memory, jdbc, redis or all; got '$SUITE'" >&2; exit 2 ;;
esac

case "$TIME" in
  *ms) seconds=$(awk "BEGIN { print ${TIME%ms} / 1000 }") ;;
  *s) seconds="${TIME%s}" ;;
  *m) seconds=$(( ${TIME%m} * 60 )) ;;
  *) echo "TIME must look like 500ms, 2s or 1m; got '$TIME'" >&2; exit 2 ;;
esac

# What each suite runs: the benchmark selection, its own JMH options, its runs per fork and the seconds a fork
# spends outside the iterations (JVM start, filling the sessions, the steady-state checks).
suite_setup() {
  case "$1" in
    memory)
      # AgentTurnBenchmark 2 thread setups x 4 N x 2 counters = 16; FloorBenchmark 2 x 4 = 8;
      # InMemoryAppendBenchmark 2 N = 2.
      select='io\.agentmemory\.benchmarks\.(AgentTurnBenchmark|FloorBenchmark|InMemoryAppendBenchmark)\.'
      options=()
      runs=26
      overhead=3
      ;;
    jdbc)
      # JdbcAgentTurnBenchmark 2 databases x 3 N x 2 otherRows x 2 calls (retention none) = 24; JdbcFloorBenchmark
      # 2 x 3 x 2 = 12; JdbcAppendBenchmark 2 databases x 2 N = 4. About 5 s a fork for the pools, the clean-up of
      # earlier trials' sessions and the fill.
      select='io\.agentmemory\.benchmarks\.(JdbcAgentTurnBenchmark|JdbcFloorBenchmark|JdbcAppendBenchmark)\.oneThread$'
      options=(-p retention=none)
      if [[ -n "$H2_DIR" ]]; then
        options+=(-jvmArgsPrepend "-Dagentmemory.bench.dir=$H2_DIR")
      fi
      runs=40
      overhead=5
      ;;
    redis)
      # RedisAgentTurnBenchmark 3 N x 2 calls = 6; RedisFloorBenchmark 3 N x 2 codecs x 2 windows = 12;
      # RedisAppendBenchmark 2 N = 2.
      select='io\.agentmemory\.benchmarks\.(RedisAgentTurnBenchmark|RedisFloorBenchmark|RedisAppendBenchmark)\.oneThread$'
      options=()
      runs=20
      overhead=3
      ;;
  esac
}

total=0
for suite in "${suites[@]}"; do
  suite_setup "$suite"
  estimate=$(awk "BEGIN { printf \"%d\", $runs * $FORKS * (($WARMUP + $ITER) * $seconds + $overhead) }")
  total=$((total + estimate))
  echo "benchmarks: $suite: $runs runs x $FORKS fork(s) x ($WARMUP warm-up + $ITER measurement) x $TIME;" \
    "estimated $((estimate / 60)) min $((estimate % 60)) s"
done
echo "benchmarks: estimated run time $((total / 60)) min $((total % 60)) s, plus the build"
if [[ " ${suites[*]} " == *" jdbc "* ]]; then
  echo "benchmarks: jdbc: plus a few minutes per database, once, if its 1,000,000-row database is not loaded yet"
fi

if [[ -z "$SKIP_BUILD" ]]; then
  mvn -B -q -pl benchmarks -am package -DskipTests -Dquick
fi

mkdir -p benchmarks/results
for suite in "${suites[@]}"; do
  suite_setup "$suite"
  result="benchmarks/results/jmh-$suite.json"
  start=$(date +%s)
  # -foe: a failed benchmark stops the script; the partial file is left beside the suite's result file, which keeps
  # its last complete run, and the README is not touched.
  # shellcheck disable=SC2086 # JMH_ARGS is split into options on purpose
  java -jar "$jar" "$select" \
    -f "$FORKS" -wi "$WARMUP" -i "$ITER" -w "$TIME" -r "$TIME" -foe true \
    -rf json -rff "$result.partial" ${options[@]+"${options[@]}"} $JMH_ARGS
  mv "$result.partial" "$result"
  echo "benchmarks: $suite: JMH took $(( $(date +%s) - start )) s; results in $result"

  java -Djava.awt.headless=true -cp "$jar" io.agentmemory.benchmarks.Report \
    "$result" benchmarks/README.md benchmarks/turn-cost.png
done
