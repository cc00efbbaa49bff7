#!/usr/bin/env bash
# Wrap dist/Foretype.app (from packaging/build.sh on macOS) in a drag-to-Applications disk image:
# dist/Foretype-VERSION.dmg. The app is ad-hoc signed by PyInstaller, not signed with a Developer ID
# nor notarized, so Gatekeeper asks the user to confirm the first start (right-click > Open).
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=${FORETYPE_VERSION:-$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')}
[ -d dist/Foretype.app ] || { echo "make-dmg.sh: no dist/Foretype.app; run packaging/build.sh first" >&2; exit 1; }

staging=build/dmg
rm -rf "$staging"; mkdir -p "$staging"
cp -R dist/Foretype.app "$staging/"
chmod -R u+rwX,go+rX "$staging/Foretype.app"   # readable by every user, whatever the build's umask
ln -s /Applications "$staging/Applications"
hdiutil create -volname Foretype -srcfolder "$staging" -fs HFS+ -format UDZO -ov "dist/Foretype-$VERSION.dmg"
# The command line is inside the app: /Applications/Foretype.app/Contents/MacOS/foretype suggest "..."
suggestions=$("dist/Foretype.app/Contents/MacOS/foretype" suggest "Thank you very ")
echo "$suggestions"
[ -n "$suggestions" ] || { echo "make-dmg.sh: the app's command suggested nothing" >&2; exit 1; }
