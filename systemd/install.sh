#!/bin/bash
# Install the kiosk on Raspberry Pi OS Lite (Bookworm), or into a chroot / staging root.
#
#   sudo systemd/install.sh --wheel dist/kiosk-0.1.0-py3-none-any.whl
#   sudo systemd/install.sh --source .                      # from a source checkout
#   sudo systemd/install.sh --root /mnt/rootfs --wheel W    # into a mounted image or chroot
#
# What it does, in order (each step is idempotent, so running it again repairs an install):
#   1. apt-installs the system packages in systemd/apt-packages (+ apt-packages-pi on Raspberry Pi OS)
#   2. creates the groups (video input gpio dialout lp render), the service user "kiosk" (no login,
#      home /var/lib/kiosk) and the maintenance user "kioskadmin" (locked password; SSH keys only,
#      installed by provisioning)
#   3. creates /opt/kiosk/venv with --system-site-packages (so Raspberry Pi OS's picamera2 and
#      libcamera bindings are importable) and pip-installs the kiosk into it
#   4. installs the units, udev rules, tmpfiles and the watchdog drop-in, and kiosk-readonly
#   5. sets dtparam=watchdog=on in config.txt (when the boot partition is there)
#   6. enables kiosk.service and kiosk-firstboot.service, masks getty@tty1, disables ssh
#
# Options:
#   --root DIR         install into DIR (a chroot: commands run with `chroot DIR`); default /
#   --wheel FILE       the kiosk wheel to install (`pip wheel --no-deps .` makes one)
#   --source DIR       or install from a source checkout
#   --wheelhouse DIR   install dependencies from wheels in DIR only (no PyPI)
#   --no-apt           skip step 1 (the packages are already there)
#   --offline          no network at all: implies --no-apt; needs --wheelhouse
#   --pi / --no-pi     force the Raspberry Pi OS packages on or off (default: detect raspi apt sources)
#   --data-partition   add the fstab entry for the KIOSKDATA partition (the SD-card image has one)
#   --no-enable        skip step 6 (no systemctl at all)
#
# It never writes a secret: identity and keys come later, from a provisioning bundle.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=/
WHEEL=""
SOURCE=""
WHEELHOUSE=""
APT=1
PI=auto
ENABLE=1
DATA_PARTITION=0
GROUPS_NEEDED=(video input gpio dialout lp render)
VENV=/opt/kiosk/venv

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d;s/^# \{0,1\}//'; exit "${1:-0}"; }
die() { echo "install.sh: $*" >&2; exit 1; }
log() { echo "install.sh: $*"; }

while [ $# -gt 0 ]; do
    case $1 in
    --root) ROOT=$2; shift ;;
    --wheel) WHEEL=$2; shift ;;
    --source) SOURCE=$2; shift ;;
    --wheelhouse) WHEELHOUSE=$2; shift ;;
    --no-apt) APT=0 ;;
    --offline) APT=0; OFFLINE=1 ;;
    --pi) PI=1 ;;
    --no-pi) PI=0 ;;
    --no-enable) ENABLE=0 ;;
    --data-partition) DATA_PARTITION=1 ;;
    -h | --help) usage 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage 2 >&2 ;;
    esac
    shift
done

[ "$(id -u)" = 0 ] || die "run as root"
[ -n "$WHEEL$SOURCE" ] || die "give --wheel FILE or --source DIR"
[ -z "${OFFLINE:-}" ] || [ -n "$WHEELHOUSE" ] || die "--offline needs --wheelhouse"
ROOT=$(cd "$ROOT" && pwd)
R=${ROOT%/}  # prefix for paths; empty for /

# Run a command inside the target system (in a chroot with a clean environment, so the build
# host's PIP_*, LANG and the like do not leak in).
in_root() {
    if [ "$ROOT" = / ]; then
        "$@"
    else
        chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            HOME=/root LC_ALL=C.UTF-8 "$@"
    fi
}

if [ "$PI" = auto ]; then
    PI=0
    if compgen -G "$R/etc/apt/sources.list.d/raspi.*" >/dev/null; then PI=1; fi
fi

packages() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$@"; }

# 1. system packages
if [ "$APT" = 1 ]; then
    lists=("$HERE/apt-packages")
    [ "$PI" = 1 ] && lists+=("$HERE/apt-packages-pi")
    log "installing system packages"
    in_root apt-get update -qq
    # shellcheck disable=SC2046
    in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(packages "${lists[@]}")
fi

# 2. groups and users
for g in "${GROUPS_NEEDED[@]}" kiosk; do
    in_root getent group "$g" >/dev/null || in_root groupadd --system "$g"
done
if ! in_root getent passwd kiosk >/dev/null; then
    log "creating user kiosk"
    in_root useradd --system --gid kiosk --home-dir /var/lib/kiosk --no-create-home \
        --shell /usr/sbin/nologin --comment "Loyalty kiosk" kiosk
fi
in_root usermod --append --groups "$(IFS=,; echo "${GROUPS_NEEDED[*]}")" kiosk
if ! in_root getent passwd kioskadmin >/dev/null; then
    log "creating maintenance user kioskadmin (password locked; SSH keys come with provisioning)"
    in_root useradd --create-home --shell /bin/bash --user-group --comment "Kiosk maintenance" kioskadmin
fi
in_root passwd --lock kioskadmin >/dev/null
for g in adm systemd-journal sudo; do
    if in_root getent group "$g" >/dev/null; then in_root usermod --append --groups "$g" kioskadmin; fi
done
if [ -d "$R/etc/sudoers.d" ]; then
    echo "kioskadmin ALL=(ALL) NOPASSWD: ALL" >"$R/etc/sudoers.d/010_kioskadmin"
    chmod 0440 "$R/etc/sudoers.d/010_kioskadmin"
fi

# 3. the application in its venv
STAGE=$(mktemp -d "$R/tmp/kiosk-install.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
INNER=${STAGE#"$R"}  # the staging folder as seen from inside the target
pip_args=(--no-cache-dir --disable-pip-version-check --quiet)
if [ -n "$WHEELHOUSE" ]; then
    cp -r "$WHEELHOUSE" "$STAGE/wheelhouse"
    pip_args+=(--no-index --find-links "$INNER/wheelhouse")
fi
if [ -n "$WHEEL" ]; then
    cp "$WHEEL" "$STAGE/"
    target="$INNER/$(basename "$WHEEL")"
else
    mkdir "$STAGE/src"
    (cd "$SOURCE" && tar --exclude=.venv --exclude=.git --exclude=var --exclude='*.egg-info' -cf - .) | tar -xf - -C "$STAGE/src"
    target="$INNER/src"
fi
mkdir -p "$R/opt/kiosk"
[ -x "$R$VENV/bin/python" ] || in_root python3 -m venv --system-site-packages "$VENV"
log "installing the kiosk into $VENV"
in_root "$VENV/bin/pip" install "${pip_args[@]}" --upgrade "$target"
ln -sfn "$VENV/bin/kiosk" "$R/usr/local/bin/kiosk"

# 4. units, rules, tmpfiles, watchdog, helper scripts
install -D -m 0644 "$HERE/kiosk.service" "$R/etc/systemd/system/kiosk.service"
install -D -m 0644 "$HERE/kiosk-firstboot.service" "$R/etc/systemd/system/kiosk-firstboot.service"
install -D -m 0644 "$HERE/99-kiosk.rules" "$R/etc/udev/rules.d/99-kiosk.rules"
install -D -m 0644 "$HERE/kiosk.tmpfiles" "$R/etc/tmpfiles.d/kiosk.conf"
install -D -m 0644 "$HERE/watchdog.conf" "$R/etc/systemd/system.conf.d/kiosk-watchdog.conf"
install -D -m 0755 "$HERE/kiosk-readonly.sh" "$R/opt/kiosk/libexec/kiosk-readonly"
install -D -m 0755 "$HERE/update.sh" "$R/opt/kiosk/libexec/kiosk-update"
install -D -m 0644 "$HERE/README.md" "$R/opt/kiosk/share/systemd/README.md"
# The folders kiosk.tmpfiles describes (systemd-tmpfiles enforces them again at every boot;
# it cannot run in a chroot without /proc, so create them here directly).
install -d -m 0755 -o 0 -g 0 "$R/etc/kiosk"
install -d -m 0700 "$R/etc/kiosk/secrets" "$R/var/lib/kiosk"
in_root chown kiosk:kiosk /etc/kiosk/secrets /var/lib/kiosk

# 5. hardware watchdog on (the Pi firmware reads config.txt from the boot partition)
for cfg in "$R/boot/firmware/config.txt" "$R/boot/config.txt"; do
    if [ -f "$cfg" ] && [ ! -L "$cfg" ]; then
        grep -qx 'dtparam=watchdog=on' "$cfg" || printf '\n# kiosk: hardware watchdog (systemd pets it)\ndtparam=watchdog=on\n' >>"$cfg"
        break
    fi
done

if [ "$DATA_PARTITION" = 1 ]; then
    line='LABEL=KIOSKDATA /var/lib/kiosk ext4 defaults,noatime,commit=30,nofail,x-systemd.device-timeout=20s 0 2'
    touch "$R/etc/fstab"
    grep -q '^LABEL=KIOSKDATA ' "$R/etc/fstab" || echo "$line" >>"$R/etc/fstab"
fi

# 6. services
if [ "$ENABLE" = 1 ]; then
    log "enabling kiosk.service and kiosk-firstboot.service; tty1 belongs to the kiosk"
    in_root systemctl enable kiosk.service kiosk-firstboot.service
    in_root systemctl mask getty@tty1.service
    # SSH stays off until a provisioning bundle with authorized_keys turns it on.
    if [ -e "$R/lib/systemd/system/ssh.service" ]; then in_root systemctl disable ssh.service; fi
    rm -f "$R/boot/firmware/ssh" "$R/boot/firmware/ssh.txt"
    if [ "$ROOT" = / ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
fi
log "done"
