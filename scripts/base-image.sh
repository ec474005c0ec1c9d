#!/usr/bin/env bash
# Builds the local Debian base image that stands in for registry images (this machine has no
# registry). Cached: does nothing when the image already exists.
set -euo pipefail
name="${BASE_IMAGE:-opsuite-local/debian:bookworm}"
suite="${DEBIAN_SUITE:-bookworm}"  # trixie: the newer Postgres major's stand-in (postgresql-17)
if docker image inspect "$name" >/dev/null 2>&1; then
  echo "base image $name present"
  exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -q && apt-get install -y -q debootstrap; }
rootfs=$(mktemp -d /tmp/opsuite-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "building base image $name ($suite) with debootstrap (about 30 s)"
debootstrap --variant=minbase "$suite" "$rootfs" http://deb.debian.org/debian >/tmp/opsuite-debootstrap.log 2>&1 \
  || { tail -20 /tmp/opsuite-debootstrap.log; exit 1; }
tar -C "$rootfs" -c . | docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$name"
echo "base image $name built"
