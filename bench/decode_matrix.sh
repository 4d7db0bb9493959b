#!/usr/bin/env bash
# bench/decode_matrix.sh — generation speed of many models as a share of the read bandwidth,
# on a host whose bandwidth moves: the bandwidth is read right before and right after each
# model's run (median of BW_RUNS each), and the row records both, so a reader can drop rows
# whose two reads disagree. Configurations: AVX-512 with 2 threads, AVX2 with 2 threads,
# AVX-512 with 1 thread (override with CONFIGS="threads:simd ...").
#
# usage: bench/decode_matrix.sh INFER OUT.jsonl MODEL.gguf...
# env:   GEN (64), REPS (2), BW_RUNS (5), CONFIGS ("2:avx512 2:avx2 1:avx512")
# each line of OUT: infer bench's JSON row plus "threads", "simd", "bw_before", "bw_after"
set -euo pipefail
infer=${1:?usage: decode_matrix.sh INFER OUT.jsonl MODEL.gguf...}
out=${2:?}
shift 2
gen=${GEN:-64}
reps=${REPS:-2}
bw_runs=${BW_RUNS:-5}
configs=${CONFIGS:-"2:avx512 2:avx2 1:avx512"}
read_bandwidth() {
  INFERENCE_SIMD=$2 "$infer" bench --bandwidth --bandwidth-runs "$bw_runs" --json -t "$1" |
    sed -E 's/.*"gb_per_second":([0-9.eE+-]+).*/\1/'
}
for config in $configs; do
  threads=${config%%:*}
  simd=${config##*:}
  for model in "$@"; do
    before=$(read_bandwidth "$threads" "$simd")
    row=$(INFERENCE_SIMD=$simd "$infer" bench "$model" -p 0 -n "$gen" -t "$threads" -r "$reps" \
      --json --bandwidth-gbs "$before")
    after=$(read_bandwidth "$threads" "$simd")
    echo "$row" | sed -e "s/^{/{\"threads\":$threads,\"simd\":\"$simd\",\"bw_before\":$before,\"bw_after\":$after,/" >>"$out"
    echo "$(basename "$model") $threads:$simd done (bandwidth $before / $after GB/s)" >&2
  done
done
