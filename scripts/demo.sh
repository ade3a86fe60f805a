#!/usr/bin/env bash
# The main job: install dependencies, build a release, then start a relay and a connector on
# loopback that expose scripts/sample-site/ as http://demo.localhost:PORT/ and print the URL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target kiteline
exec bash scripts/demo-run.sh "$PWD/build/release/src/kiteline"
