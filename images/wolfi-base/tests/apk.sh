#!/bin/sh
# apk-tools works and sees the packages the image was built from.
# Test scripts receive the unpacked image root in ROOTFS and a command that runs the
# image in RUN (its arguments are appended to the image's entrypoint).
set -eu
$RUN -c 'apk --version' | grep -q '^apk-tools '
$RUN -c 'apk info -e busybox'
