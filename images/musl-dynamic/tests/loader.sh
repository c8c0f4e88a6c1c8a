#!/bin/sh
# The musl dynamic loader for the image's architecture is present, and no shell is.
# Contract (README, Layout): ROOTFS is the unpacked image root; RUN runs the image,
# its arguments replacing Cmd as in `docker run IMAGE ARGS`. Also set: IMAGE, ARCH
# (amd64, arm64), RUNTIME (bwrap, docker), CONFIG (the OCI config JSON), SHARED_DIR
# (a host folder mounted in the image at SHARED_DIR_IN_IMAGE) and PORT_<n> for each port of
# a `# ports:` line.
set -eu
ls "$ROOTFS"/lib/ld-musl-*.so.1 >/dev/null
test ! -e "$ROOTFS/bin/sh"
grep -q '^nonroot:x:65532:65532:' "$ROOTFS/etc/passwd"
