#!/usr/bin/env bash
# The main command (README): sets up whatever is missing, then runs wirelab with the arguments given,
# e.g. `bash scripts/wirelab.sh run --all`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/setup.sh"
exec node "$here/dist/src/cli/main.js" "$@"
