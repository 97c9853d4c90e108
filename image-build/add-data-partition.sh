#!/bin/bash
# add-data-partition.sh IMAGE [SIZE_MIB]
#
# Appends the writable data partition to an exported image: ext4, label KIOSKDATA, SIZE_MIB
# (default 512) MiB, after the root partition. The image's /etc/fstab (install.sh
# --data-partition) mounts it at /var/lib/kiosk by label with noatime,commit=30. Uses no loop
# devices: the file system is made in place with mke2fs's offset option.
set -euo pipefail
img=$1
size_mib=${2:-512}
[ -f "$img" ] || { echo "add-data-partition.sh: no image $img" >&2; exit 2; }
command -v sfdisk >/dev/null || { echo "add-data-partition.sh: needs sfdisk (util-linux / fdisk)" >&2; exit 2; }

end_bytes=$(stat -c %s "$img")
# start on a 4 MiB boundary after the current end of the image
start_mib=$(((end_bytes + 4 * 1048576 - 1) / (4 * 1048576) * 4))
truncate -s $(((start_mib + size_mib) * 1048576)) "$img"
echo "start=$((start_mib * 2048)), size=$((size_mib * 2048)), type=83" | sfdisk --append --no-reread --no-tell-kernel "$img" >/dev/null
mkfs.ext4 -q -F -L KIOSKDATA -E offset=$((start_mib * 1048576)) "$img" "$((size_mib * 1024))"
echo "add-data-partition.sh: KIOSKDATA ($size_mib MiB) at ${start_mib} MiB in $img"
