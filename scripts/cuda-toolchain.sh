#!/usr/bin/env bash
# Install the CUDA 13.0 toolchain Gauntlet's `cuda` feature builds with, from
# NVIDIA's PyPI wheels, into the Gauntlet cache — no GPU, driver or root needed.
#
#   eval "$(scripts/cuda-toolchain.sh)"
#   cargo build --release --features cuda
#
# What it does:
# - downloads nvcc, NVVM, the CRT and CCCL headers, the runtime, NVRTC, cuBLAS
#   and cuRAND, pinned to 13.0.x and sha256-checked (pip --require-hashes);
# - unpacks them into one CUDA_HOME ($GAUNTLET_CACHE/cuda-13.0/cu13);
# - makes the link stubs a toolkit has and the wheels lack: `libcuda.so`, the
#   driver library (SONAME libcuda.so.1, every driver entry point of cuda.h as an
#   empty function: the real one comes with the GPU's driver at run time), and
#   the unversioned `lib*.so` names the linker looks for;
# - prints the environment to build with: CUDA_HOME, PATH, CUDA_COMPUTE_CAP=90
#   (Hopper: the H100/H200 the validators run) and CUDARC_CUDA_VERSION=13000
#   (cudarc refuses nvcc newer than 13.4, and a PTX newer than the GPU's 13.0
#   driver fails at run time; override CUDA_COMPUTE_CAP for other GPUs).
#
# Idempotent and offline once cached. Logs go to stderr, the exports to stdout.
set -euo pipefail

cache=${GAUNTLET_CACHE:-$HOME/.cache/gauntlet}
root="$cache/cuda-13.0"
home="$root/cu13"
stamp="$root/.complete-v1"
python=${PYTHON:-python3}

emit() {
    cat <<EOF
export CUDA_HOME='$home'
export CUDA_PATH='$home'
export PATH='$home/bin':"\$PATH"
export CUDA_COMPUTE_CAP=\${CUDA_COMPUTE_CAP:-90}
export CUDARC_CUDA_VERSION=13000
EOF
}

if [ -f "$stamp" ]; then
    emit
    exit 0
fi

# Pinned wheels: name==version and the sha256 of the manylinux x86-64 wheel.
pins=$(cat <<'EOF'
nvidia-cuda-nvcc==13.0.88 --hash=sha256:56fe502eb77625a12f25172caa3cdddb4e4c8ba2c8c17dba44b164761b380f03
nvidia-nvvm==13.0.88 --hash=sha256:c5f41ffeb6466944a026dfa5317d7d85355c119bbec279205d22f1869d1054e0
nvidia-cuda-crt==13.0.88 --hash=sha256:2c8043c7c9e02492716426e9919fc78d2c5b3b2a7a768a88e952676b08aa55a4
nvidia-cuda-runtime==13.0.96 --hash=sha256:7f82250d7782aa23b6cfe765ecc7db554bd3c2870c43f3d1821f1d18aebf0548
nvidia-cuda-cccl==13.0.85 --hash=sha256:e0da7ad981f3a8aff08241b5bfc1af868742a63e2762f53a5171c492ef242649
nvidia-cuda-nvrtc==13.0.88 --hash=sha256:ad9b6d2ead2435f11cbb6868809d2adeeee302e9bb94bcf0539c7a40d80e8575
nvidia-cublas==13.0.2.14 --hash=sha256:0cf238ffdbe46c00cb9aa98e7bca745c223a5ca5a53e686ac8b3e5a08fe80d6c
nvidia-curand==10.4.0.35 --hash=sha256:1aee33a5da6e1db083fe2b90082def8915f30f3248d5896bcec36a579d941bfc
EOF
)

mkdir -p "$root/wheels"
reqs="$root/requirements.txt"
printf '%s\n' "$pins" >"$reqs"
echo "downloading the CUDA 13.0 wheels (about 680 MB, once) ..." >&2
"$python" -m pip download --quiet --no-deps --require-hashes --only-binary=:all: \
    --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux_2_12_x86_64 \
    --platform manylinux2010_x86_64 \
    -d "$root/wheels" -r "$reqs" >&2

# Unpack into a fresh tree, then move it into place: a half-made CUDA_HOME is
# never left where the stamp says a whole one is.
tmp=$(mktemp -d "$root/.unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for w in "$root"/wheels/*.whl; do
    "$python" - "$w" "$tmp" <<'EOF'
import os, sys, zipfile
wheel, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if ".dist-info/" in name or not name.startswith("nvidia/cu13/") or name.endswith("/"):
            continue
        path = z.extract(info, out)
        mode = (info.external_attr >> 16) & 0o777
        os.chmod(path, mode or 0o644)
EOF
done
new="$tmp/nvidia/cu13"
chmod +x "$new"/bin/* "$new"/nvvm/bin/* 2>/dev/null || true

# Unversioned names for the linker (`-lcublas` finds libcublas.so).
for lib in "$new"/lib/*.so.*; do
    base=$(basename "$lib")
    plain=${base%%.so.*}.so
    [ -e "$new/lib/$plain" ] || ln -s "$base" "$new/lib/$plain"
done

# The driver stub: every cu* entry point cuda.h declares or #defines to.
mkdir -p "$new/lib/stubs"
grep -ohE '\bcu[A-Z][A-Za-z0-9_]*\b' "$new/include/cuda.h" | sort -u |
    awk '{ printf "void %s(void) {}\n", $1 }' >"$tmp/cuda_stub.c"
${CC:-cc} -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$new/lib/stubs/libcuda.so" "$tmp/cuda_stub.c"

"$new/bin/nvcc" --version >&2
rm -rf "$home"
mv "$new" "$home"
touch "$stamp"
emit
