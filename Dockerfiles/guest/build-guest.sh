#!/bin/bash
# Build the snpapp benchmark guest: build-guest.sh OUTDIR [INIT]
# Writes OUTDIR/{vmlinuz,vmlinux,initramfs.cpio,initramfs.cpio.gz,guest-manifest.txt}.
# Needs apt-get, dpkg, ldd, gzip, xz and an installed sysbench and GNU time
# (the guest's copies are taken from this system, with every library ldd lists).
set -euo pipefail
OUT=$(realpath -m "${1:?usage: build-guest.sh OUTDIR [INIT]}")
INIT=$(realpath "${2:-$(dirname "$0")/init}")
for tool in apt-get apt-cache dpkg ldd gzip xz /usr/bin/sysbench /usr/bin/time; do
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
cp k/lib/modules/"$KVER"/kernel/drivers/firmware/qemu_fw_cfg.ko "$R/lib/modules/"
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
  for f in vmlinuz vmlinux initramfs.cpio initramfs.cpio.gz; do
    echo "file=$f $(stat -c %s "$OUT/$f") $(sha256sum "$OUT/$f" | cut -d' ' -f1)"
  done
} > "$OUT/guest-manifest.txt"
echo "guest built in $OUT (kernel $KVER)"
