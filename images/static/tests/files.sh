#!/bin/sh
# The image carries CA certificates, time zone data and the nonroot account.
# Test scripts receive the unpacked image root in ROOTFS and a command that runs the
# image in RUN (its arguments are appended to the image's entrypoint).
set -eu
test -s "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
test -f "$ROOTFS/usr/share/zoneinfo/UTC"
grep -q '^nonroot:x:65532:65532:' "$ROOTFS/etc/passwd"
