#!/usr/bin/env bash
# Create (or reuse) <repo>/.venv-llama (git-ignored) with llama-cpp-python's OpenAI-compatible
# server (requirements.txt; pip builds llama.cpp from source with CMake: about 10 minutes on 2
# cores, see docs/REMOTE.md). Idempotent. Prints the venv's python on its last line; the
# tests find it there or at $GAUNTLET_LLAMA_PYTHON.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${GAUNTLET_LLAMA_VENV:-$root/.venv-llama}
python=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
if "$venv/bin/python" -c "import llama_cpp.server, importlib.metadata as m; assert m.version('llama-cpp-python') == '0.3.36'" 2>/dev/null; then
    echo "$venv: already set up" >&2
else
    start=$(date +%s)
    # CPU only; every core; no examples or tools.
    CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
    CMAKE_ARGS=${CMAKE_ARGS:--DGGML_NATIVE=ON -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF} \
        "$venv/bin/python" -m pip install --disable-pip-version-check -q --no-cache-dir \
        -r "$here/requirements.txt" >&2
    echo "llama-cpp-python built in $(( $(date +%s) - start )) s" >&2
fi
"$venv/bin/python" -c "import llama_cpp.server" >&2
echo "$venv/bin/python"
