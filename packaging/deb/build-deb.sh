#!/usr/bin/env bash
# Package the PyInstaller bundle (dist/foretype, from packaging/build.sh) as dist/foretype_VERSION_ARCH.deb:
#   /opt/foretype/                    the bundle
#   /usr/bin/foretype                 a symlink into it (the bundle finds itself through the link)
#   /usr/share/applications/foretype.desktop, /usr/share/icons/hicolor/256x256/apps/foretype.png
# No maintainer scripts: dpkg's triggers refresh the menu and icon caches, and removal takes every
# file of the package; user data in ~/.config and ~/.local/share is left alone, as users expect.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=${VERSION:-$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')}
ARCH=$(dpkg --print-architecture)
[ -x dist/foretype/foretype ] || { echo "build-deb.sh: no dist/foretype/foretype; run packaging/build.sh first" >&2; exit 1; }

# System libraries the bundled Qt loads but PyInstaller leaves to the system (X11/xcb, Wayland, GL,
# fonts, D-Bus, GLib); libc6 and libstdc++6 for Python and torch. Names valid on Debian 12 and Ubuntu 22.04+.
DEPENDS="libc6, libstdc++6, libgcc-s1, zlib1g, libglib2.0-0, libdbus-1-3, libfontconfig1, libfreetype6,
 libgl1, libegl1, libx11-6, libx11-xcb1, libxkbcommon0, libxkbcommon-x11-0, libxcb1, libxcb-cursor0,
 libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-randr0, libxcb-render-util0, libxcb-render0,
 libxcb-shape0, libxcb-shm0, libxcb-sync1, libxcb-util1, libxcb-xfixes0, libxcb-xkb1,
 libwayland-client0, libwayland-cursor0, libwayland-egl1"

root=build/deb/foretype_${VERSION}_${ARCH}
rm -rf "$root"
mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/applications" \
         "$root/usr/share/icons/hicolor/256x256/apps" "$root/usr/share/doc/foretype"
cp -a dist/foretype "$root/opt/foretype"
ln -s /opt/foretype/foretype "$root/usr/bin/foretype"
install -m 644 packaging/deb/foretype.desktop "$root/usr/share/applications/foretype.desktop"
install -m 644 app/assets/foretype.png "$root/usr/share/icons/hicolor/256x256/apps/foretype.png"
install -m 644 packaging/deb/copyright "$root/usr/share/doc/foretype/copyright"
chmod -R u=rwX,go=rX "$root"   # root-owned and world-readable, whatever the build user's umask

installed_kb=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@INSTALLED_SIZE@/$installed_kb/" \
    -e "s/@DEPENDS@/$(echo $DEPENDS)/" packaging/deb/control.in > "$root/DEBIAN/control"
# md5sums lets `dpkg --verify foretype` prove the installed files are unchanged.
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"

deb=dist/foretype_${VERSION}_${ARCH}.deb
start=$(date +%s)
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb"   # xz: torch's libraries shrink about 4x
echo "build-deb.sh: $deb in $(( $(date +%s) - start )) s: $(du -h "$deb" | cut -f1), installed size $(( installed_kb / 1024 )) MB"
