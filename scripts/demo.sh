#!/usr/bin/env bash
# The main job, for now: build Elava and take a tour of its memory. Records
# three scans of a made-up AWS account (the real `elava scan` comes with the
# AWS provider), then shows what changed, a resource's history, the account
# as it was, and checks the store and the audit log with the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

dir=${1:-$(mktemp -d /tmp/elava-demo-XXXXXX)}
build/elava-demo --store "$dir"
echo
echo '$ elava store stat'
build/elava store stat --store "$dir"
echo
echo '$ elava wal verify'
build/elava wal verify --store "$dir"
echo
echo '$ elava wal tail -n 3'
build/elava wal tail -n 3 --store "$dir"
