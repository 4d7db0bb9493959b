#!/bin/sh
# ctest entry for the MCP SDK client test: skips (exit 77) with a message when Node or the
# test project's node_modules is missing (scripts/setup installs them with `npm ci`).
dir=$(cd "$(dirname "$0")" && pwd)
node=${NODE:-node}
if ! command -v "$node" >/dev/null 2>&1 || [ "$node" = "NODE_EXECUTABLE-NOTFOUND" ]; then
  echo "SKIP: node not found; install Node.js and run scripts/setup"
  exit 77
fi
if [ ! -d "$dir/node_modules/@modelcontextprotocol/sdk" ]; then
  echo "SKIP: $dir/node_modules is absent; run scripts/setup (npm ci in tests/clients/mcp)"
  exit 77
fi
cd "$dir" && exec "$node" --test --test-concurrency=1 mcp_sdk.test.mjs
