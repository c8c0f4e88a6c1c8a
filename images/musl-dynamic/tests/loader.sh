#!/bin/sh
# Test scripts receive the unpacked image root in ROOTFS and a command that runs the
# image in RUN (its arguments are appended to the image entrypoint).
set -eu
# The musl dynamic loader for the image's architecture is present, and no shell is.
ls "$ROOTFS"/lib/ld-musl-*.so.1 >/dev/null
test ! -e "$ROOTFS/bin/sh"
