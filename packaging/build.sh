#!/usr/bin/env bash
# Build the one-folder bundle dist/atlas-desktop/ (executable dist/atlas-desktop/atlas-desktop), then smoke
# check it (--version and the headless self-test).
#
#   packaging/build.sh              # fresh build venv (runtime dependencies only) + PyInstaller
#   packaging/build.sh --no-venv    # use the current python3 (PyInstaller must be installed)
#   packaging/build.sh --no-smoke   # skip the smoke check
#
# Environment: PYTHON (default python3) creates the venv; ATLAS_BUILD_DIR (default build/).
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
python=${PYTHON:-python3}
build_dir=${ATLAS_BUILD_DIR:-$root/build}
use_venv=1
smoke=1
for arg in "$@"; do
  case "$arg" in
    --no-venv) use_venv=0 ;;
    --no-smoke) smoke=0 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg (see --help)" >&2; exit 2 ;;
  esac
done

started=$(date +%s)
mkdir -p "$build_dir"

if [ "$use_venv" = 1 ]; then
  # Only the app's runtime dependencies: test-only packages cannot leak into the bundle.
  venv="$build_dir/venv"
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  python="$venv/bin/python"
  "$python" -m pip install --quiet --upgrade pip
  "$python" -m pip install --quiet "$root" "pyinstaller>=6.10,<7"
fi

# The PNG sizes come from the SVG (resources/icons); render them only where a checkout lacks them.
if ! ls resources/icons/atlas-desktop-256.png >/dev/null 2>&1; then
  QT_QPA_PLATFORM=offscreen "$python" packaging/make_icons.py
fi
"$python" packaging/platform_icons.py "$build_dir/icons"

rm -rf dist/atlas-desktop
ATLAS_ICON_DIR="$build_dir/icons" ATLAS_BUILD_DIR="$build_dir" "$python" -m PyInstaller \
  --noconfirm --clean --log-level WARN \
  --distpath "$root/dist" --workpath "$build_dir/pyinstaller" \
  packaging/atlas-desktop.spec

# What an installer needs next to the program: the install guide and, on Linux, install.sh and its files.
cp docs/INSTALL.md dist/atlas-desktop/INSTALL.md
case "$(uname -s)" in
  Linux)
    mkdir -p dist/atlas-desktop/linux
    cp packaging/linux/atlas-desktop.desktop packaging/linux/pharma.atlas.desktop.metainfo.xml \
      packaging/linux/atlas-desktop-agent.service packaging/linux/agent.env.example \
      packaging/linux/atlas-agentctl dist/atlas-desktop/linux/
    cp packaging/linux/install.sh dist/atlas-desktop/install.sh
    ;;
esac

exe=dist/atlas-desktop/atlas-desktop
[ -x "$exe" ] || exe=dist/atlas-desktop/atlas-desktop.exe
built=$(date +%s)
echo "built $exe in $((built - started)) s; bundle size: $(du -sh dist/atlas-desktop | cut -f1)"

if [ "$smoke" = 1 ]; then
  "$exe" --version
  # Offscreen Qt and no keyring: the self-test needs neither a display nor a desktop session.
  QT_QPA_PLATFORM=offscreen PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring "$exe" selftest
  echo "smoke check passed in $(($(date +%s) - built)) s"
fi
