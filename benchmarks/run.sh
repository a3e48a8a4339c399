#!/usr/bin/env bash
# Runs the benchmarks (AgentTurnBenchmark, FloorBenchmark, InMemoryAppendBenchmark) and regenerates the results
# section of benchmarks/README.md and the chart benchmarks/turn-cost.png. See benchmarks/README.md.
#
# Settings (environment variables, with their defaults):
#   FORKS=1      JMH forks per benchmark and parameter set
#   WARMUP=6     warm-up iterations per fork (a session of 20000 messages needs about 4 to reach its steady state)
#   ITER=5       measurement iterations per fork
#   TIME=2s      length of each warm-up and measurement iteration (JMH syntax: 500ms, 2s, 1m)
#   JMH_ARGS=    further JMH options, appended as given, e.g. JMH_ARGS="-p n=20,2000" (the estimate ignores them)
#   SKIP_BUILD=  set to 1 to reuse benchmarks/target/benchmarks.jar
#
# Example, a smoke run that only proves the pipeline works: FORKS=1 WARMUP=1 ITER=1 TIME=1s benchmarks/run.sh
set -euo pipefail

FORKS="${FORKS:-1}"
WARMUP="${WARMUP:-6}"
ITER="${ITER:-5}"
TIME="${TIME:-2s}"
JMH_ARGS="${JMH_ARGS:-}"
SKIP_BUILD="${SKIP_BUILD:-}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

jar=benchmarks/target/benchmarks.jar
result=benchmarks/results/jmh-result.json

# Runs per fork: AgentTurnBenchmark 2 thread setups x 4 N x 2 counters = 16; FloorBenchmark 2 x 4 = 8;
# InMemoryAppendBenchmark 2 N = 2.
runs=26
case "$TIME" in
  *ms) seconds=$(awk "BEGIN { print ${TIME%ms} / 1000 }") ;;
  *s) seconds="${TIME%s}" ;;
  *m) seconds=$(( ${TIME%m} * 60 )) ;;
  *) echo "TIME must look like 500ms, 2s or 1m; got '$TIME'" >&2; exit 2 ;;
esac
# About 3 s a fork for JVM start, filling the sessions and the steady-state checks.
estimate=$(awk "BEGIN { printf \"%d\", $runs * $FORKS * (($WARMUP + $ITER) * $seconds + 3) }")
echo "benchmarks: $runs runs x $FORKS fork(s) x ($WARMUP warm-up + $ITER measurement) x $TIME"
echo "benchmarks: estimated run time $((estimate / 60)) min $((estimate % 60)) s, plus the build"

if [[ -z "$SKIP_BUILD" ]]; then
  mvn -B -q -pl benchmarks -am package -DskipTests -Dquick
fi

mkdir -p benchmarks/results
start=$(date +%s)
# shellcheck disable=SC2086 # JMH_ARGS is split into options on purpose
java -jar "$jar" \
  'io\.agentmemory\.benchmarks\.(AgentTurnBenchmark|FloorBenchmark|InMemoryAppendBenchmark)\.' \
  -f "$FORKS" -wi "$WARMUP" -i "$ITER" -w "$TIME" -r "$TIME" \
  -rf json -rff "$result" $JMH_ARGS
echo "benchmarks: JMH took $(( $(date +%s) - start )) s; results in $result"

java -Djava.awt.headless=true -cp "$jar" io.agentmemory.benchmarks.Report \
  "$result" benchmarks/README.md benchmarks/turn-cost.png
