#!/usr/bin/env bash
# The main job: install dependencies, build a release, and run kiteline.
# Until the relay and connector land this prints `kiteline --help`; afterwards it starts a relay
# and a connector on loopback that expose a sample folder and prints the URL to open.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target kiteline
BIN=build/release/src/kiteline
if "$BIN" --help | grep -q -- '--isfrontend'; then
  exec bash scripts/demo-run.sh "$BIN"
fi
"$BIN" --help
