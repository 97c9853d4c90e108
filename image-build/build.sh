#!/bin/bash
# Build the kiosk's SD-card image: Raspberry Pi OS Lite (Bookworm, arm64) + the kiosk.
#
#   image-build/build.sh                 # clones pi-gen (arm64 branch) next to the repo
#   PIGEN_DIR=~/pi-gen image-build/build.sh
#
# Environment: PIGEN_DIR (a pi-gen checkout; cloned if missing), PIGEN_REF (default arm64),
# DOCKER=1 to build with pi-gen's build-docker.sh (default when docker is available),
# DATA_MIB (size of the KIOSKDATA partition, default 512), IMG_NAME (default kiosk).
# The image ends up in $PIGEN_DIR/deploy/. It holds no secret: kiosks get theirs from a
# provisioning bundle (see README.md).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
PIGEN_DIR=${PIGEN_DIR:-$REPO/../pi-gen}
PIGEN_REF=${PIGEN_REF:-arm64}
DATA_MIB=${DATA_MIB:-512}
IMG_NAME=${IMG_NAME:-kiosk}
if [ -z "${DOCKER:-}" ]; then
    if command -v docker >/dev/null; then DOCKER=1; else DOCKER=0; fi
fi

if [ ! -d "$PIGEN_DIR" ]; then
    git clone --branch "$PIGEN_REF" https://github.com/RPi-Distro/pi-gen.git "$PIGEN_DIR"
fi
PIGEN_DIR=$(cd "$PIGEN_DIR" && pwd)

# 1. the stage, with its payload: systemd/, the kiosk wheel and the wheels of its dependencies
#    (built for the Pi: linux aarch64, CPython 3.11 as in Bookworm)
STAGE="$PIGEN_DIR/stage-kiosk"
rm -rf "$STAGE"
cp -r "$HERE/stage-kiosk" "$STAGE"
FILES="$STAGE/00-kiosk/files"
mkdir -p "$FILES/wheelhouse"
cp -r "$REPO/systemd" "$FILES/systemd"
{
    echo "# Generated from systemd/apt-packages and systemd/apt-packages-pi."
    sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$REPO/systemd/apt-packages" "$REPO/systemd/apt-packages-pi"
} >"$STAGE/00-kiosk/00-packages"
BUILD=$(mktemp -d)
trap 'rm -rf "$BUILD"' EXIT
(cd "$REPO" && tar -cf - pyproject.toml kiosk hq --exclude=__pycache__) | tar -xf - -C "$BUILD"
python3 -m pip wheel --quiet --no-deps -w "$FILES" "$BUILD"
python3 -m pip download --quiet --dest "$FILES/wheelhouse" --only-binary=:all: \
    --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64 --platform linux_aarch64 \
    --python-version 3.11 --implementation cp "$FILES"/kiosk-*.whl
rm -f "$FILES/wheelhouse"/kiosk-*.whl

# 2. pi-gen's configuration: Lite stages plus ours; only our stage exports an image
cat >"$PIGEN_DIR/config" <<CONFIG
IMG_NAME=$IMG_NAME
RELEASE=bookworm
DEPLOY_COMPRESSION=none
LOCALE_DEFAULT=ru_RU.UTF-8
TIMEZONE_DEFAULT=Europe/Moscow
TARGET_HOSTNAME=kiosk
FIRST_USER_NAME=kioskadmin
FIRST_USER_PASS=$(head -c 24 /dev/urandom | base64)
DISABLE_FIRST_BOOT_USER_RENAME=1
ENABLE_SSH=0
STAGE_LIST="stage0 stage1 stage2 stage-kiosk"
CONFIG
touch "$PIGEN_DIR/stage2/SKIP_IMAGES"

# 3. build
cd "$PIGEN_DIR"
if [ "$DOCKER" = 1 ]; then ./build-docker.sh; else ./build.sh; fi

# 4. the data partition
img=$(ls -t "$PIGEN_DIR"/deploy/*"$IMG_NAME"*-kiosk.img | head -n 1)
"$HERE/add-data-partition.sh" "$img" "$DATA_MIB"
echo "image: $img"
