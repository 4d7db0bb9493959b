#!/usr/bin/env bash
# bench/soak_serve.sh — soak test of `infer serve` (issue 11): 1,000 streamed requests at
# concurrency 16 against a loopback server, a third of the clients hanging up at random points
# (before the first token or mid-stream), in four runs of `infer bench-serve` (100, then three
# parts of the rest) with the server's resident memory read after each. Passes when the server never crashes, every request that
# was not abandoned completes, all slots are idle at the end (no leaked slot), resident memory
# grows by at most 5% from request 100 to request 1,000, and SIGTERM then exits 0.
# Not a ctest test (minutes, not seconds). Run it on an ASan build too:
#   bench/soak_serve.sh MODEL.gguf --infer build/asan/src/cli/infer
#
# usage: bench/soak_serve.sh MODEL.gguf [--infer PATH] [--requests N] [--concurrency C]
#                            [--max-tokens G] [--parallel NP] [--time-limit SECONDS]
# Traffic goes only to 127.0.0.1; every step is bounded in time.
set -euo pipefail

model=${1:?usage: soak_serve.sh MODEL.gguf [--infer PATH] [--requests N] [--concurrency C] [--max-tokens G] [--parallel NP] [--time-limit S]}
shift
infer=build/release/src/cli/infer
requests=1000
concurrency=16
max_tokens=48
parallel=8
time_limit=1800
while [ $# -gt 0 ]; do
  case "$1" in
    --infer) infer="$2"; shift ;;
    --requests) requests="$2"; shift ;;
    --concurrency) concurrency="$2"; shift ;;
    --max-tokens) max_tokens="$2"; shift ;;
    --parallel) parallel="$2"; shift ;;
    --time-limit) time_limit="$2"; shift ;;
    *) echo "soak_serve: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$requests" -ge 200 ] || { echo "soak_serve: --requests must be >= 200" >&2; exit 2; }
command -v curl >/dev/null || { echo "soak_serve: needs curl" >&2; exit 2; }

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "soak_serve: FAIL: $*" >&2; echo "--- server log (tail) ---" >&2; tail -n 30 "$work/server.log" >&2; exit 1; }
# Read once the server has been idle for 3 s: `infer serve` returns freed heap pages to the
# system every 2 s (malloc_trim), so this is its settled memory, not the transient peak of the
# burst that just ended.
rss_kb() { sleep 3; awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status"; }
json_field() { sed -E "s/.*\"$2\":([0-9.eE+-]+).*/\1/" <<<"$1"; }

"$infer" serve "$model" --host 127.0.0.1 --port 0 -np "$parallel" 2>"$work/server.log" &
server_pid=$!
url=
for _ in $(seq 1 240); do  # up to 120 s to load
  url=$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$work/server.log" | head -n 1 | sed 's/listening on //') || true
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || fail "server exited during startup"
  sleep 0.5
done
[ -n "$url" ] || fail "server did not start listening within 120 s"
echo "soak_serve: server pid $server_pid at $url (-np $parallel), $requests requests at concurrency $concurrency"

start=$(date +%s)
# One phase of load: N requests, a third of them hanging up at a random token count.
phase() {
  local n=$1 seed=$2 left=$(( time_limit - ($(date +%s) - start) ))
  [ "$left" -gt 0 ] || fail "time limit of $time_limit s reached"
  timeout "$left" "$infer" bench-serve "$url" --concurrency "$concurrency" --requests "$n" \
    --max-tokens "$max_tokens" --prompt-tokens 16 --warmup 0 --disconnect-fraction 0.333 \
    --seed "$seed" --timeout 120 --json || true
}

# Request 100 is the baseline; the rest runs in three parts so the log shows the trend of resident
# memory (warm-up that levels off, or growth that goes on), not just its two ends.
reports=("$(phase 100 1)")
kill -0 "$server_pid" 2>/dev/null || fail "server died during the first 100 requests"
rss_100=$(rss_kb)
echo "soak_serve: RSS after request 100: $rss_100 kB"
rest=$(( requests - 100 ))
done_so_far=100
for part in 1 2 3; do
  n=$(( part < 3 ? rest / 3 : rest - 2 * (rest / 3) ))
  reports+=("$(phase "$n" $(( part + 1 )))")
  kill -0 "$server_pid" 2>/dev/null || fail "server died during the run"
  done_so_far=$(( done_so_far + n ))
  rss_now=$(rss_kb)
  [ "$part" = 1 ] && rss_part1=$rss_now
  echo "soak_serve: RSS after request $done_so_far: $rss_now kB"
done
rss_end=$(rss_kb)

# From here on every check runs and each failure is listed, so one run tells everything.
problems=()
check() { echo "soak_serve: FAIL: $*" >&2; problems+=("$*"); }

completed=0
disconnected=0
errors_total=0
for r in "${reports[@]}"; do
  [ -n "$r" ] || { check "bench-serve gave no report (time limit?)"; continue; }
  errors=$(json_field "$r" errors)
  [ "$errors" = 0 ] ||
    check "$errors requests failed: $(sed -E 's/.*"first_error":"([^"]*)".*/\1/' <<<"$r")"
  errors_total=$(( errors_total + errors ))
  completed=$(( completed + $(json_field "$r" completed) ))
  disconnected=$(( disconnected + $(json_field "$r" disconnected) ))
done
echo "soak_serve: $completed completed, $disconnected disconnected on purpose, $errors_total failed"

# Every slot idle once the last client is gone (a freed slot shows within a decode step; the
# 10 s bound only keeps a leak from hanging the script).
slots=
for _ in $(seq 1 100); do
  slots=$(curl -sf --max-time 5 "$url/slots") || { check "GET /slots failed"; break; }
  grep -q '"is_processing":true' <<<"$slots" || break
  sleep 0.1
done
if grep -q '"is_processing":true' <<<"$slots"; then check "slots still busy after the run: $slots"
else echo "soak_serve: all slots idle"; fi
in_flight=$(curl -sf --max-time 5 "$url/metrics" | awk '$1 == "infer_requests_in_flight" {print $2}')
[ "${in_flight:-0}" = 0 ] || check "metrics report $in_flight requests in flight after the run"

growth=$(awk -v a="$rss_100" -v b="$rss_end" 'BEGIN { printf "%.2f", (b - a) * 100 / a }')
after_warmup=$(awk -v a="$rss_part1" -v b="$rss_end" 'BEGIN { printf "%.2f", (b - a) * 100 / a }')
echo "soak_serve: RSS from request 100 to request $requests: $rss_100 -> $rss_end kB ($growth%;" \
     "$after_warmup% over the last two thirds)"
awk -v g="$growth" 'BEGIN { exit !(g <= 5.0) }' || check "resident memory grew by $growth% (> 5%)"

kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=
if [ "$status" = 0 ]; then echo "soak_serve: exit 0 on SIGTERM"
else check "server exited with status $status on SIGTERM"; fi
if grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$work/server.log"; then
  check "sanitizer report in the server log"
fi
if [ ${#problems[@]} -gt 0 ]; then
  echo "soak_serve: FAIL (${#problems[@]} problems, $(( $(date +%s) - start )) s)" >&2
  exit 1
fi
echo "soak_serve: PASS ($(( $(date +%s) - start )) s)"
