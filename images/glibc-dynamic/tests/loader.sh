#!/bin/sh
# Test scripts receive the unpacked image root in ROOTFS and a command that runs the
# image in RUN (its arguments are appended to the image entrypoint).
set -eu
# The glibc dynamic loader for the image's architecture is present, and no shell is.
ls "$ROOTFS"/lib*/ld-linux-*.so.* >/dev/null
test ! -e "$ROOTFS/bin/sh"
grep -q '^nonroot:x:65532:65532:' "$ROOTFS/etc/passwd"
