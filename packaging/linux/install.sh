#!/bin/sh
# Install this Atlas Desktop bundle for every user of the machine (run from the bundle folder, as root):
#   sudo ./install.sh                 # /opt/atlas-desktop, `atlas-desktop` on PATH, menu entry, icons
#   sudo ./install.sh --agent         # ... and the headless agent as a systemd service (user atlas)
#   sudo ./install.sh --uninstall     # remove the program; keeps /var/lib/atlas-desktop and /etc/atlas-desktop
#   sudo ./install.sh --uninstall --purge   # ... and the agent's data, passphrase file and user
# Running it again with a newer bundle upgrades in place (the agent is stopped, swapped, started again).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prefix=/opt/atlas-desktop
unit=atlas-desktop-agent.service
data=/var/lib/atlas-desktop
conf=/etc/atlas-desktop
sizes="16 24 32 48 64 128 256 512"
agent=0
uninstall=0
purge=0

die() { echo "install.sh: $*" >&2; exit 2; }
for arg in "$@"; do
  case "$arg" in
    --agent) agent=1 ;;
    --uninstall) uninstall=1 ;;
    --purge) purge=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown option $arg (see --help)" ;;
  esac
done
[ "$(id -u)" -eq 0 ] || die "run it as root (sudo)"
has_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }
refresh_menus() {
  if command -v update-desktop-database >/dev/null; then update-desktop-database -q /usr/share/applications; fi
  if command -v gtk-update-icon-cache >/dev/null; then gtk-update-icon-cache -q -t /usr/share/icons/hicolor; fi
}

if [ "$uninstall" = 1 ]; then
  if has_systemd; then
    systemctl disable --now "$unit" 2>/dev/null || true
    rm -f "/etc/systemd/system/$unit"
    systemctl daemon-reload
  fi
  rm -f /usr/local/bin/atlas-desktop /usr/local/sbin/atlas-agentctl \
    /usr/share/applications/atlas-desktop.desktop /usr/share/metainfo/pharma.atlas.desktop.metainfo.xml \
    /usr/share/icons/hicolor/scalable/apps/atlas-desktop.svg
  for size in $sizes; do rm -f "/usr/share/icons/hicolor/${size}x${size}/apps/atlas-desktop.png"; done
  rm -rf "$prefix"
  if [ "$purge" = 1 ]; then
    rm -rf "$data" "$conf"
    if id atlas >/dev/null 2>&1; then userdel atlas; fi
    echo "removed Atlas Desktop, the agent's data ($data) and its passphrase file ($conf)"
  else
    echo "removed Atlas Desktop; kept $data and $conf (remove them with --uninstall --purge)"
  fi
  refresh_menus
  exit 0
fi

[ -x "$here/atlas-desktop" ] || die "run install.sh from the unpacked bundle folder (atlas-desktop/)"
"$here/atlas-desktop" --version >/dev/null || die "this bundle does not start on this machine"

was_running=0
if has_systemd && systemctl is-active --quiet "$unit"; then
  was_running=1
  systemctl stop "$unit"
fi
# Copy next to the old version, then swap: a failed copy leaves the installed version untouched.
if [ "$here" != "$prefix" ]; then
  rm -rf "$prefix.new" "$prefix.old"
  cp -a "$here" "$prefix.new"
  [ ! -d "$prefix" ] || mv "$prefix" "$prefix.old"
  mv "$prefix.new" "$prefix"
  rm -rf "$prefix.old"
fi
ln -sf "$prefix/atlas-desktop" /usr/local/bin/atlas-desktop
install -D -m 0644 "$prefix/linux/atlas-desktop.desktop" /usr/share/applications/atlas-desktop.desktop
install -D -m 0644 "$prefix/linux/pharma.atlas.desktop.metainfo.xml" \
  /usr/share/metainfo/pharma.atlas.desktop.metainfo.xml
icons="$prefix/_internal/resources/icons"
for size in $sizes; do
  install -D -m 0644 "$icons/atlas-desktop-$size.png" "/usr/share/icons/hicolor/${size}x${size}/apps/atlas-desktop.png"
done
install -D -m 0644 "$icons/atlas-desktop.svg" /usr/share/icons/hicolor/scalable/apps/atlas-desktop.svg
refresh_menus
echo "installed $("$prefix/atlas-desktop" --version) in $prefix"

if [ "$agent" = 1 ] || [ -f "/etc/systemd/system/$unit" ]; then
  has_systemd || die "the agent service needs systemd; see INSTALL.md for running 'atlas-desktop agent' otherwise"
  if ! id atlas >/dev/null 2>&1; then
    useradd --system --home-dir "$data" --no-create-home --shell /usr/sbin/nologin atlas
  fi
  # systemd creates it too (StateDirectory=), but atlas-agentctl may run before the first start.
  install -d -m 0700 -o atlas -g atlas "$data"
  install -d -m 0755 "$conf"
  if [ ! -f "$conf/agent.env" ]; then
    # A random passphrase nobody has to type: it only has to survive, in this root-only file.
    (umask 077 && printf 'ATLAS_DESKTOP_PASSPHRASE=%s\n' "$(head -c 32 /dev/urandom | base64)" >"$conf/agent.env")
    echo "generated the agent's passphrase in $conf/agent.env (back it up with the data folder)"
  fi
  chown root:root "$conf/agent.env"
  chmod 0600 "$conf/agent.env"
  install -D -m 0755 "$prefix/linux/atlas-agentctl" /usr/local/sbin/atlas-agentctl
  install -D -m 0644 "$prefix/linux/$unit" "/etc/systemd/system/$unit"
  systemctl daemon-reload
  systemctl enable "$unit" >/dev/null
  if [ "$was_running" = 1 ]; then
    systemctl start "$unit"
    echo "agent upgraded and started again (its database migrates itself, after a backup)"
  else
    echo "agent installed. Next: sudo atlas-agentctl connections import - < your-erp.json"
    echo "                    sudo atlas-agentctl signin --base-url URL --token-stdin < token.txt"
    echo "                    sudo systemctl start $unit"
  fi
fi
