#!/bin/sh
# nginx starts and reports its version; its configuration parses as the image ships it.
# Test scripts receive the unpacked image root in ROOTFS and a command that runs the
# image in RUN (its arguments are appended to the image's entrypoint).
set -eu
$RUN -v 2>&1 | grep -q '^nginx version: nginx/'
$RUN -t -c /etc/nginx/nginx.conf
