#!/bin/sh
# The image carries CA certificates, time zone data and the nonroot account, and no shell.
# Contract (README, Layout): ROOTFS is the unpacked image root; RUN runs the image,
# its arguments replacing Cmd as in `docker run IMAGE ARGS`. Also set: IMAGE, ARCH
# (amd64, arm64), RUNTIME (bwrap, docker), CONFIG (the OCI config JSON), SHARED_DIR
# (a host folder mounted in the image at SHARED_DIR_IN_IMAGE) and PORT_<n> for each port of
# a `# ports:` line.
set -eu
certificates="$ROOTFS/etc/ssl/certs/ca-certificates.crt"
test "$(grep -c 'BEGIN CERTIFICATE' "$certificates")" -gt 10
test "$(head -c 4 "$ROOTFS/usr/share/zoneinfo/UTC")" = TZif
grep -q '^nonroot:x:65532:65532:' "$ROOTFS/etc/passwd"
grep -q '^nonroot:x:65532:' "$ROOTFS/etc/group"
test ! -e "$ROOTFS/bin/sh"
