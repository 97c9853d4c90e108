#!/bin/sh
# kiosk-readonly prepare|enable|disable|status
#
# The kiosk's root file system is read-only: an overlay (raspi-config's overlayfs, i.e.
# overlayroot with a tmpfs upper layer) discards every write at reboot; the database lives on
# the KIOSKDATA partition mounted at /var/lib/kiosk.
#
#   prepare  run before provisioning: if the overlay is active, turn it off and reboot (the bundle
#            stays on the boot partition and is installed on the next boot)
#   enable   run after provisioning: turn the overlay on and reboot into it
#   disable  turn it off (for maintenance; takes effect at the next reboot)
#   status   print "on" or "off"
#
# Without raspi-config (not Raspberry Pi OS, or a test chroot) every action but status is a no-op.
set -eu

active() { awk '$2 == "/" && $3 == "overlay" { found = 1 } END { exit !found }' /proc/mounts; }
have_raspi_config() { command -v raspi-config >/dev/null 2>&1; }

case "${1:-status}" in
prepare)
    if active && have_raspi_config; then
        echo "kiosk-readonly: overlay active; turning it off and rebooting to provision" >&2
        raspi-config nonint do_overlayfs 1
        systemctl --no-block reboot
        exit 1 # stop the provisioning unit here; it runs again after the reboot
    fi
    ;;
enable)
    if ! active && have_raspi_config; then
        raspi-config nonint do_overlayfs 0
        systemctl --no-block reboot
    fi
    ;;
disable)
    if have_raspi_config; then raspi-config nonint do_overlayfs 1; fi
    ;;
status)
    if active; then echo on; else echo off; fi
    ;;
*)
    echo "usage: $0 prepare|enable|disable|status" >&2
    exit 2
    ;;
esac
