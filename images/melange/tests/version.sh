#!/bin/sh
# Test scripts receive the unpacked image root in ROOTFS and a command that runs the
# image in RUN (its arguments are appended to the image entrypoint).
set -eu
$RUN version | grep -qi 'gitversion'
