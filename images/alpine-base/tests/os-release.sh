#!/bin/sh
# Test scripts receive the unpacked image root in ROOTFS and a command that runs the
# image in RUN (its arguments are appended to the image entrypoint).
set -eu
# The image identifies as Alpine and its package manager reads the installed database.
grep -q '^ID=alpine' "$ROOTFS/etc/os-release"
$RUN -c 'apk info -e alpine-baselayout'
