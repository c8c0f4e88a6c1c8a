#!/bin/sh
# git runs as the entrypoint and reports its version. The server-side programs that
# ssh remotes start, the shell-script helpers and the templates are installed.
# Contract (README, Layout): ROOTFS is the unpacked image root; RUN runs the image,
# its arguments appended to the entrypoint (/usr/bin/git). Also set: IMAGE, ARCH
# (amd64, arm64), RUNTIME (bwrap, docker), CONFIG (the OCI config JSON) and SHARED_DIR
# (a host folder mounted in the image at SHARED_DIR_IN_IMAGE).
set -eu
$RUN --version | grep -q '^git version '
for program in git git-upload-pack git-receive-pack git-upload-archive git-shell; do
  test -e "$ROOTFS/usr/bin/$program"
done
test -f "$ROOTFS/usr/libexec/git-core/git-sh-setup"
test -d "$ROOTFS/usr/share/git-core/templates"
