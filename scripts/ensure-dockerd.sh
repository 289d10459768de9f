#!/usr/bin/env bash
# Make sure a Docker engine answers. When none does and we are root, start
# dockerd in the background (its log: /var/log/snpapp-dockerd.log) and wait for it.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "snpapp: no Docker engine answers; start one (sudo systemctl start docker, or sudo dockerd &)" >&2
  exit 1
fi
if command -v systemctl >/dev/null 2>&1 && systemctl start docker >/dev/null 2>&1; then
  :
else
  echo "snpapp: starting dockerd (log: /var/log/snpapp-dockerd.log)" >&2
  nohup dockerd >/var/log/snpapp-dockerd.log 2>&1 &
fi
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "snpapp: dockerd did not answer within 60 s; see /var/log/snpapp-dockerd.log" >&2
exit 1
