#!/bin/bash
# kiosk-update WHEEL [--wheelhouse DIR] [--no-restart]
#
# Installs a new kiosk wheel into /opt/kiosk/venv with rollback: the current venv is kept as
# venv.prev; if the new version does not import, fails `kiosk config-check` on this kiosk's
# configuration, or kiosk.service is not running 30 s after the restart, the previous venv is
# put back and the service restarted on it. Installed as /opt/kiosk/libexec/kiosk-update.
#
# The root file system is read-only in the field (overlay): run `kiosk-readonly disable`, reboot,
# update, then `kiosk-readonly enable` (which reboots). The script refuses to run on the overlay,
# where the update would vanish at the next reboot.
set -euo pipefail

VENV=${KIOSK_VENV:-/opt/kiosk/venv}
CONFIG=${KIOSK_CONFIG:-/etc/kiosk/config.toml}
WHEEL=""
WHEELHOUSE=""
RESTART=1
while [ $# -gt 0 ]; do
    case $1 in
    --wheelhouse) WHEELHOUSE=$2; shift ;;
    --no-restart) RESTART=0 ;;
    -*) echo "usage: $0 WHEEL [--wheelhouse DIR] [--no-restart]" >&2; exit 2 ;;
    *) WHEEL=$1 ;;
    esac
    shift
done
[ -f "$WHEEL" ] || { echo "kiosk-update: no wheel given (or not found): $WHEEL" >&2; exit 2; }
if awk '$2 == "/" && $3 == "overlay" { f = 1 } END { exit !f }' /proc/mounts; then
    echo "kiosk-update: the root file system is the read-only overlay; run kiosk-readonly disable and reboot first" >&2
    exit 1
fi

PREV="$VENV.prev"
rm -rf "$PREV"
cp -a "$VENV" "$PREV"

rollback() {
    echo "kiosk-update: $1; rolling back" >&2
    rm -rf "$VENV"
    mv "$PREV" "$VENV"
    if [ "$RESTART" = 1 ]; then systemctl restart kiosk.service || true; fi
    exit 1
}

args=(--no-cache-dir --disable-pip-version-check --quiet --upgrade)
[ -z "$WHEELHOUSE" ] || args+=(--no-index --find-links "$WHEELHOUSE")
"$VENV/bin/pip" install "${args[@]}" "$WHEEL" || rollback "pip install failed"
"$VENV/bin/python" -c "import kiosk.cli, kiosk.config" || rollback "the new version does not import"
if [ -f "$CONFIG" ]; then
    "$VENV/bin/python" -m kiosk config-check --config "$CONFIG" || rollback "the configuration does not pass the new version's checks"
fi
if [ "$RESTART" = 1 ]; then
    systemctl restart kiosk.service
    sleep 30
    systemctl is-active --quiet kiosk.service || rollback "kiosk.service is not running on the new version"
fi
echo "kiosk-update: now $("$VENV/bin/python" -m kiosk --version) (previous version kept in $PREV)"
