#!/usr/bin/env bash
# A/B rounds of bench:load between two built work trees, in turn, twice, in one sitting:
#   scripts/bench-ab.sh BEFORE_DIR AFTER_DIR [bench:load flags, e.g. --transport sse --sessions 100,1000 --ceiling no]
# Each tree runs its own dist/bench/load.js against its own gateway build; only the result rows are printed.
# (Each run also rewrites that tree's bench/results/load-latest.*.)
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 BEFORE_DIR AFTER_DIR [bench:load flags]" >&2
  exit 2
fi
before=$1
after=$2
shift 2
for round in 1 2; do
  for tree in "$before" "$after"; do
    echo "== round $round: $tree"
    (cd "$tree" && node dist/bench/load.js "$@" | grep '^| ' | grep -v '^| transport | target' | grep -v '^|---' | sort -u)
  done
done
