#!/bin/sh
# Test scripts receive the unpacked image root in ROOTFS and a command that runs the
# image in RUN (its arguments are appended to the image entrypoint).
set -eu
# The compiler builds and links a C program against musl inside the image.
$RUN --version | grep -q '^gcc '
test -f "$ROOTFS/usr/include/stdio.h"
