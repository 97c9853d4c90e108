#!/bin/bash -e
# pi-gen: install the kiosk into the image with the same script a technician runs on a plain
# Raspberry Pi OS Lite (systemd/install.sh). build.sh put the payload in files/: the systemd/
# folder of the repository, the kiosk wheel and a wheelhouse of its dependencies.
PAYLOAD=/tmp/kiosk-payload
rm -rf "${ROOTFS_DIR}${PAYLOAD}"
mkdir -p "${ROOTFS_DIR}${PAYLOAD}"
cp -r files/systemd files/wheelhouse "${ROOTFS_DIR}${PAYLOAD}/"
cp files/kiosk-*.whl "${ROOTFS_DIR}${PAYLOAD}/"

# The packages of 00-packages are installed by now; the rest needs no network.
on_chroot <<CHROOT
set -e
WHEEL=\$(ls ${PAYLOAD}/kiosk-*.whl)
${PAYLOAD}/systemd/install.sh --root / --wheel "\$WHEEL" --wheelhouse ${PAYLOAD}/wheelhouse \
    --offline --pi --data-partition
CHROOT
rm -rf "${ROOTFS_DIR}${PAYLOAD}"

# No console login on tty1 (install.sh masked getty@tty1), and no auto-login either.
rm -f "${ROOTFS_DIR}/etc/systemd/system/getty@tty1.service.d/autologin.conf"
# Quiet boot: the screen shows the kiosk, not kernel messages.
sed -i 's/$/ quiet loglevel=3 logo.nologo vt.global_cursor_default=0/;s/  */ /g' "${ROOTFS_DIR}/boot/firmware/cmdline.txt"
# SSH stays off: only a provisioning bundle with authorized_keys turns it on.
on_chroot <<CHROOT
systemctl disable ssh.service || true
CHROOT
