#!/bin/sh
# The entrypoint prints its greeting and exits 0, with no command arguments.
# Contract (README, Layout): ROOTFS is the unpacked image root; RUN runs the image,
# its arguments replacing Cmd as in `docker run IMAGE ARGS`. Also set: IMAGE, ARCH
# (amd64, arm64), RUNTIME (bwrap, docker), CONFIG (the OCI config JSON), SHARED_DIR
# (a host folder mounted in the image at SHARED_DIR_IN_IMAGE) and PORT_<n> for each port of
# a `# ports:` line.
set -eu
output=$($RUN)
echo "$output"
echo "$output" | grep -qi '^hello'
