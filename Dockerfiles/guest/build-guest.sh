#!/bin/bash
# Build the snpapp benchmark guest: build-guest.sh OUTDIR [INIT]
# Writes OUTDIR/{vmlinuz,vmlinux,initramfs.cpio,initramfs.cpio.gz,guest-manifest.txt}.
# Needs apt-get, dpkg, ldd, gzip, xz, modinfo and an installed sysbench, GNU time,
# iperf3 and /usr/local/bin/fio (the guest's copies are taken from this system, with every
# library ldd lists).
set -euo pipefail
OUT=$(realpath -m "${1:?usage: build-guest.sh OUTDIR [INIT]}")
INIT=$(realpath "${2:-$(dirname "$0")/init}")
for tool in apt-get apt-cache dpkg ldd gzip xz modinfo /usr/bin/sysbench /usr/bin/time \
  /usr/local/bin/fio /usr/bin/iperf3; do
  command -v "$tool" >/dev/null || { echo "build-guest.sh: $tool is missing" >&2; exit 1; }
done
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
chmod 755 "$W"
KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$KPKG" ] || { echo "build-guest.sh: cannot resolve linux-image-amd64" >&2; exit 1; }
apt-get download -q "$KPKG" busybox-static >/dev/null
dpkg -x "$KPKG"_*.deb k
dpkg -x busybox-static_*.deb bb
KVER=${KPKG#linux-image-}

R=$W/root
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,lib/modules,proc,sys,dev,tmp,run,etc}
cp bb/bin/busybox "$R/bin/busybox"
for applet in $("$R/bin/busybox" --list-full); do
  [ -e "$R/$applet" ] || ln -s /bin/busybox "$R/$applet"
done
copy_elf() {  # a binary and all its shared libraries, at identical paths
  install -D -m755 "$1" "$R$1"
  ldd "$1" | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' | while read -r lib; do
    [ -e "$R$lib" ] || install -D -m755 "$(readlink -f "$lib")" "$R$lib"
  done
}
copy_elf /usr/bin/sysbench
copy_elf /usr/bin/time
copy_elf /usr/local/bin/fio
copy_elf /usr/bin/iperf3
# The attestation request of Linux < 6.7 (no configfs-tsm): SNP_GET_REPORT, static.
gcc -static -O2 -Wall -Wextra -Werror -o "$R/usr/bin/snp-guest-report" \
  "$(dirname "$0")/snp-guest-report.c"
# Modules /init loads in this order (dependencies first): fw_cfg for the workload
# script, virtio-pci with virtio-blk (fio's disk) and virtio-net (iperf3's NIC),
# sev-guest for /dev/sev-guest in an SNP guest (it loads and stays idle elsewhere).
MODS=k/lib/modules/"$KVER"/kernel
: > "$R/lib/modules/load-order"
add_module() {  # $1 = module name; its dependencies first, each module once
  grep -qx "$1" "$R/lib/modules/load-order" && return
  local ko
  ko=$(find "$MODS" -name "$(echo "$1" | sed 's/[-_]/[-_]/g').ko" | head -1)
  [ -n "$ko" ] || { echo "build-guest.sh: kernel module $1 is missing" >&2; exit 1; }
  for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do add_module "$dep"; done
  cp "$ko" "$R/lib/modules/$1.ko"
  echo "$1" >> "$R/lib/modules/load-order"
}
for module in qemu_fw_cfg virtio_pci virtio_blk virtio_net sev-guest; do
  add_module "$module"
done
mknod -m 600 "$R/dev/console" c 5 1 2>/dev/null || true
install -m755 "$INIT" "$R/init"

mkdir -p "$OUT"
cp k/boot/vmlinuz-"$KVER" "$OUT/vmlinuz"
# The uncompressed ELF vmlinux boots faster under TCG (PVH entry, no XZ decompression).
off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$OUT/vmlinuz" | head -1 | cut -d: -f1)
tail -c +$((off + 1)) "$OUT/vmlinuz" | xz -dcq > "$OUT/vmlinux" 2>/dev/null || true
if [ "$(head -c4 "$OUT/vmlinux" | od -An -tx1 | tr -d ' ')" != 7f454c46 ]; then
  echo "build-guest.sh: extracting vmlinux from vmlinuz failed" >&2
  exit 1
fi
find "$R" -exec touch -h -d @0 {} +
(cd "$R" && find . | LC_ALL=C sort | "$R/bin/busybox" cpio -o -H newc 2>/dev/null) \
  > "$OUT/initramfs.cpio"
gzip -9 -n -c "$OUT/initramfs.cpio" > "$OUT/initramfs.cpio.gz"

{
  echo "kernel_package=$KPKG $(dpkg-deb -f "$KPKG"_*.deb Version)"
  echo "kernel_release=$KVER"
  echo "busybox_static=$(dpkg-deb -f busybox-static_*.deb Version)"
  echo "sysbench=$(dpkg-query -W -f '${Version}' sysbench)"
  echo "time=$(dpkg-query -W -f '${Version}' time)"
  echo "fio=$(/usr/local/bin/fio --version) (Debian source $(cat /usr/local/share/fio-source-version), libaio and io_uring engines)"
  echo "iperf3=$(dpkg-query -W -f '${Version}' iperf3)"
  echo "snp_guest_report=$(sha256sum "$R/usr/bin/snp-guest-report" | cut -d' ' -f1)"
  echo "modules=$(tr '\n' ' ' < "$R/lib/modules/load-order" | sed 's/ $//')"
  for f in vmlinuz vmlinux initramfs.cpio initramfs.cpio.gz; do
    echo "file=$f $(stat -c %s "$OUT/$f") $(sha256sum "$OUT/$f" | cut -d' ' -f1)"
  done
} > "$OUT/guest-manifest.txt"
echo "guest built in $OUT (kernel $KVER)"
