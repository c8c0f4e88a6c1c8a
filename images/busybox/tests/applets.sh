#!/bin/sh
# Busybox applets run through the image's shell entrypoint.
# Test scripts receive the unpacked image root in ROOTFS and a command that runs the
# image in RUN (its arguments are appended to the image's entrypoint).
set -eu
test "$($RUN -c 'echo hello')" = hello
test "$($RUN -c 'printf "b\na\n" | sort | head -n 1')" = a
$RUN -c 'id -u' | grep -qx 65532
