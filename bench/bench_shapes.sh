#!/usr/bin/env bash
# bench/bench_shapes.sh — the issue-6 benchmark table: generates the random-weight models of the
# real shapes (once; they are cached in MODEL_DIR) and runs `infer bench` on each, 2 threads,
# pp512 + tg128, appending one JSON line per test to OUT.
#
# usage: bench/bench_shapes.sh INFER_BINARY [MODEL_DIR] [OUT.jsonl] [shape:type ...]
# e.g.   bench/bench_shapes.sh build/src/cli/infer /tmp/shapes results.jsonl qwen2.5-0.5b:Q8_0
set -euo pipefail

infer=${1:?usage: bench_shapes.sh INFER_BINARY [MODEL_DIR] [OUT.jsonl] [shape:type ...]}
model_dir=${2:-/tmp/inference-shapes}
out=${3:-bench-results.jsonl}
shift $(( $# < 3 ? $# : 3 ))
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  # The shapes and types of llama.cpp's reference table in issue 6.
  cases=(llama-3.2-1b:Q4_K_M llama-3.2-1b:Q8_0 gemma-3-1b:Q4_K_M qwen2.5-0.5b:Q4_K_M
         qwen2.5-0.5b:Q8_0)
fi
threads=${THREADS:-2}
reps=${REPS:-5}

mkdir -p "$model_dir"
# The bandwidth once, so every line is compared against the same figure.
"$infer" bench --bandwidth --json -t "$threads" | tee -a "$out"
bandwidth=$(tail -n 1 "$out" | sed -E 's/.*"gb_per_second":([0-9.eE+-]+).*/\1/')
for case in "${cases[@]}"; do
  shape=${case%%:*}
  type=${case##*:}
  model="$model_dir/$shape-$type.gguf"
  [ -f "$model" ] || "$infer" gen-model --shape "$shape" --type "$type" --out "$model"
  echo "== $shape $type: $infer bench $model -p 512 -n 128 -t $threads -r $reps" >&2
  "$infer" bench "$model" -p 512 -n 128 -t "$threads" -r "$reps" --json \
    --bandwidth-gbs "$bandwidth" | tee -a "$out"
done
