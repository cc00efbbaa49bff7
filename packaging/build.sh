#!/usr/bin/env bash
# Build Foretype's one-folder bundle with PyInstaller: dist/foretype/ (and dist/Foretype.app on macOS),
# then run the bundled command once so a broken bundle fails here, not on a user's machine.
#
#   PYTHON=/path/to/python packaging/build.sh
#
# PYTHON: a Python with pyinstaller and Foretype's dependencies (CPU torch==2.13.0); default python3.
# FORETYPE_MODEL: the model file to bundle; default model/assets/default.pt.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
export FORETYPE_MODEL=${FORETYPE_MODEL:-model/assets/default.pt}
FORETYPE_MODEL=$(cd "$(dirname "$FORETYPE_MODEL")" && pwd)/$(basename "$FORETYPE_MODEL")

start=$(date +%s)
# Install the project itself (not editable) so PyInstaller finds foretype.app/.model/.training in
# site-packages like any other package; its dependencies are already in that environment.
"$PYTHON" -m pip install --quiet --no-deps --force-reinstall .
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/foretype.spec
echo "build.sh: bundle built in $(( $(date +%s) - start )) s: $(du -sh dist/foretype | cut -f1) in dist/foretype"

# Smoke test from the bundle, offline and with a throw-away home so no user data is touched.
exe=dist/foretype/foretype
[ -f "$exe.exe" ] && exe=$exe.exe
home=$(mktemp -d)
suggestions=$(HOME=$home "$exe" suggest "Thank you very ")  # the next word ("very" alone completes into longer words only)
rm -rf "$home"
echo "$suggestions"
[ -n "$suggestions" ] || { echo "build.sh: the bundled command suggested nothing" >&2; exit 1; }
