#!/bin/sh
# Test scripts receive the unpacked image root in ROOTFS and a command that runs the
# image in RUN (its arguments are appended to the image entrypoint).
set -eu
# git runs as the entrypoint and reports its version.
$RUN --version | grep -q '^git version '
