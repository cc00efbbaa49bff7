#!/usr/bin/env bash
# End-to-end check of the Linux installer: build the .deb, install it, use it the way a user would,
# uninstall it, and check that nothing of it is left. Slow (a full PyInstaller build), so it is not
# part of the test suite; run it before a release. Needs root or sudo, apt-get, Xvfb, xdotool and
# ImageMagick (`import`). Leaves its evidence in build/check/ (suggest.txt, screenshot.png, logs).
#
#   PYTHON=/path/to/python packaging/check.sh               build with that Python, then check
#   FORETYPE_DEB=dist/foretype_0.1.0_amd64.deb packaging/check.sh   check a .deb built before
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
out=build/check
rm -rf "$out"; mkdir -p "$out"
fail() { echo "check.sh: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

if [ -z "${FORETYPE_DEB:-}" ]; then
    step "build"
    start=$(date +%s)
    packaging/build.sh
    packaging/deb/build-deb.sh
    echo "check.sh: build time $(( $(date +%s) - start )) s"
    FORETYPE_DEB=$(ls -t dist/foretype_*.deb | head -n 1)
fi
FORETYPE_DEB=$(realpath "$FORETYPE_DEB")
echo "check.sh: $FORETYPE_DEB: $(du -h "$FORETYPE_DEB" | cut -f1), Installed-Size $(( $(dpkg-deb -f "$FORETYPE_DEB" Installed-Size) / 1024 )) MB"

step "install"
dpkg -s foretype >/dev/null 2>&1 && fail "foretype is already installed; remove it first"
# The package's paths that do not exist yet: after uninstalling, none of them may be left.
dpkg-deb --fsys-tarfile "$FORETYPE_DEB" | tar -t | sed -e 's|^\./|/|' -e 's|/$||' | grep -v '^\.\?$' \
    | while read -r path; do if [ ! -e "$path" ] && [ ! -L "$path" ]; then echo "$path"; fi; done > "$out/new-paths.txt"
$SUDO apt-get install -y --no-install-recommends "$FORETYPE_DEB" > "$out/install.log" 2>&1 \
    || { tail -n 20 "$out/install.log"; fail "apt-get install"; }
[ "$(command -v foretype)" = /usr/bin/foretype ] || fail "foretype is not /usr/bin/foretype on PATH"
if command -v desktop-file-validate >/dev/null; then desktop-file-validate /usr/share/applications/foretype.desktop; fi
# Every library in the bundle must resolve with the declared Depends installed (the bundle's own
# libraries are found in _internal/, where the PyInstaller bootloader points the loader).
missing=$(find /opt/foretype -name '*.so*' -type f -print0 \
          | LD_LIBRARY_PATH=/opt/foretype/_internal xargs -0 ldd 2>/dev/null | grep 'not found' | sort -u || true)
[ -z "$missing" ] || fail "libraries not found: $missing"

# A fresh user with no network: no settings, no personal model, nothing downloaded.
home=$(mktemp -d)
chmod 755 "$home"
# A command prefix, not a function: a background command then has the app's own pid, to kill it.
if $SUDO unshare -n true 2>/dev/null; then offline=($SUDO unshare -n env "HOME=$home"); else offline=(env "HOME=$home"); fi
touch "$out/stamp"; sleep 1

step "foretype --version (the package's metadata is bundled)"
version=$(grep -m1 "^version" pyproject.toml | cut -d\" -f2)
[ "$("${offline[@]}" foretype --version)" = "foretype $version" ] || fail "foretype --version does not say $version"

step "foretype suggest (installed command, offline)"
"${offline[@]}" foretype suggest "Thank you very m" | tee "$out/suggest.txt"   # a word being typed: completed
[ -s "$out/suggest.txt" ] || fail "foretype suggest printed nothing"
"${offline[@]}" foretype suggest "Thank you very " | tee "$out/suggest-next.txt"   # after a space: the next word
[ -s "$out/suggest-next.txt" ] || fail "foretype suggest printed nothing after a space"

step "desktop app under Xvfb (offline)"
display=:$(( 90 + RANDOM % 100 ))
Xvfb "$display" -screen 0 1024x700x24 -nolisten tcp > "$out/xvfb.log" 2>&1 & xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
export DISPLAY=$display
sleep 1
"${offline[@]}" foretype app > "$out/app.log" 2>&1 & app=$!   # what the desktop entry runs
for _ in $(seq 60); do xdotool search --onlyvisible --name Foretype >/dev/null 2>&1 && break; sleep 1; done
xdotool search --onlyvisible --name Foretype >/dev/null 2>&1 || { cat "$out/app.log"; fail "no Foretype window after 60 s"; }
sleep 15   # the model loads on a worker thread after the window is up
# No window manager under Xvfb: give the window the keyboard focus and click into the text first.
win=$(xdotool search --onlyvisible --name Foretype | head -n 1)
xdotool windowfocus --sync "$win" mousemove --window "$win" 300 150 click 1
sleep 1
xdotool type --delay 120 "Thank you very much for the he"
sleep 3
import -window root "$out/screenshot.png"
kill -0 $app 2>/dev/null || { cat "$out/app.log"; fail "the app exited on its own"; }
$SUDO kill $app; wait $app 2>/dev/null || true
echo "check.sh: screenshot $out/screenshot.png"

step "the install folder is unchanged"
changed=$(find /opt/foretype -newer "$out/stamp" | head)
[ -z "$changed" ] || fail "files written in the install folder: $changed"
dpkg --verify foretype || fail "dpkg --verify: installed files differ from the package"

step "uninstall"
$SUDO apt-get purge -y foretype > "$out/purge.log" 2>&1 || { tail -n 20 "$out/purge.log"; fail "apt-get purge"; }
dpkg -s foretype >/dev/null 2>&1 && fail "foretype is still known to dpkg"
left=$(while read -r path; do if [ -e "$path" ] || [ -L "$path" ]; then echo "$path"; fi; done < "$out/new-paths.txt")
[ -z "$left" ] || fail "left after uninstall: $left"
[ ! -e /opt/foretype ] && [ ! -e /usr/bin/foretype ] || fail "/opt/foretype or /usr/bin/foretype still there"
echo "check.sh: user data kept in the home directory, as expected: $(cd "$home" && find . -type f | tr '\n' ' ')"
rm -rf "$home"
echo "check.sh: PASS"
