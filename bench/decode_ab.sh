#!/usr/bin/env bash
# bench/decode_ab.sh — before/after decode figures in one run: the read bandwidth measured once
# (median of runs, with its spread), then, per model, `infer bench` of a BEFORE and an AFTER
# binary alternately (ROUNDS times), every row divided by the same bandwidth figure. On a noisy
# host compare the two binaries within a round, not across runs.
#
# usage: bench/decode_ab.sh BEFORE_INFER AFTER_INFER OUT.jsonl MODEL.gguf...
# env:   THREADS (2), REPS (3), ROUNDS (2), PROMPT (0: tg only), GEN (128), DEPTHS (0; e.g.
#        0,4096: generation after that many tokens of context, infer bench -d)
set -euo pipefail
before=${1:?usage: decode_ab.sh BEFORE_INFER AFTER_INFER OUT.jsonl MODEL.gguf...}
after=${2:?}
out=${3:?}
shift 3
threads=${THREADS:-2}
reps=${REPS:-3}
rounds=${ROUNDS:-2}
prompt=${PROMPT:-0}
gen=${GEN:-128}
depths=${DEPTHS:-0}
"$after" bench --bandwidth --json -t "$threads" | tee -a "$out"
bandwidth=$(tail -n 1 "$out" | sed -E 's/.*"gb_per_second":([0-9.eE+-]+).*/\1/')
for model in "$@"; do
  for round in $(seq "$rounds"); do
    for which in before after; do
      bin=$before
      [ "$which" = after ] && bin=$after
      echo "== round $round $which: $(basename "$model") (load: $(cut -d' ' -f1 /proc/loadavg))" >&2
      "$bin" bench "$model" -p "$prompt" -n "$gen" -d "$depths" -t "$threads" -r "$reps" --json \
        --bandwidth-gbs "$bandwidth" | sed -e "s/^{/{\"binary\":\"$which\",\"round\":$round,/" |
        tee -a "$out"
    done
  done
done
