#!/usr/bin/env bash
# Create (or reuse) <repo>/.venv-bt (git-ignored) with the pinned Bittensor packages of
# requirements-bt.txt: bittensor-drand and bittensor-wallet. Idempotent; a few MB. Prints the
# venv's python on its last line. The Rust tests find it there (or at $GAUNTLET_BT_PYTHON).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${GAUNTLET_BT_VENV:-$root/.venv-bt}
python=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
if "$venv/bin/python" - "$here/requirements-bt.txt" <<'PY' 2>/dev/null
import importlib.metadata as m, re, sys
want = {}
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if line:
        name, version = line.split("==")
        want[name] = version
sys.exit(0 if all(m.version(k) == v for k, v in want.items()) else 1)
PY
then
    echo "$venv: already set up" >&2
else
    "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$here/requirements-bt.txt"
fi
"$venv/bin/python" -c "import bittensor_drand, bittensor_wallet" >&2
echo "$venv/bin/python"
