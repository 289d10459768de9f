#!/usr/bin/env bash
# Install the Debian packages snpapp needs for a given purpose, when run as root
# and only those that are missing. Usage: scripts/system-deps.sh demo|test|e2e-deploy
set -euo pipefail

purpose=${1:-test}
demo_pkgs=(python3-venv poppler-utils fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0
           libharfbuzz-subset0 docker.io qemu-system-x86 qemu-utils ovmf debootstrap git iperf3)
test_pkgs=("${demo_pkgs[@]}" sysbench time openssh-server openssh-client rsync iproute2
           busybox-static xz-utils cpio procps patch dpkg-dev genisoimage qemu-utils sudo
           fio gcc libc6-dev linux-libc-dev)
e2e_deploy_pkgs=(python3-venv debootstrap qemu-system-x86 qemu-utils ovmf fdisk mtools
                 openssh-client rsync dpkg)
case "$purpose" in
  demo) wanted=("${demo_pkgs[@]}") ;;
  test) wanted=("${test_pkgs[@]}") ;;
  e2e-deploy) wanted=("${e2e_deploy_pkgs[@]}") ;;
  *) echo "usage: $0 demo|test|e2e-deploy" >&2; exit 2 ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "snpapp: missing Debian packages: ${missing[*]}" >&2
  echo "snpapp: run as root, or install them first: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "snpapp: installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
