#!/usr/bin/env bash
# Create (or reuse) the reference Python venv at <repo>/.venv (git-ignored) with the pinned
# transformers / PyTorch stack of requirements.lock.txt. Idempotent. ~5.6 GB installed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${GAUNTLET_VENV:-$root/.venv}
python=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
if "$venv/bin/python" - <<'PY' 2>/dev/null
import importlib.metadata as m, sys
want = {"torch": "2.15.0", "transformers": "5.23.0", "accelerate": "1.15.0", "gguf": "0.19.0"}
sys.exit(0 if all(m.version(k).split("+")[0] == v for k, v in want.items()) else 1)
PY
then
    echo "$venv: already set up" >&2
else
    "$venv/bin/python" -m pip install --disable-pip-version-check -r "$here/requirements.lock.txt"
fi
"$venv/bin/python" -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
