#!/bin/sh
# The OpenSSH client that git uses for ssh:// remotes runs and creates an ed25519 key.
# Contract (README, Layout): ROOTFS is the unpacked image root; RUN runs the image,
# its arguments appended to the entrypoint (/usr/bin/git). Also set: IMAGE, ARCH
# (amd64, arm64), RUNTIME (bwrap, docker), CONFIG (the OCI config JSON) and SHARED_DIR
# (a host folder mounted in the image at SHARED_DIR_IN_IMAGE).
set -eu
key="$SHARED_DIR_IN_IMAGE/key"
if [ "$ARCH" = amd64 ] || [ "$RUNTIME" = docker ]; then
  # A git alias starting with `!` runs a program from the image's PATH, as git does
  # for ssh:// remotes. The image has no /bin/sh, and git needs none for a command
  # without shell metacharacters.
  $RUN -c alias.ssh='!ssh' ssh -V 2>&1 | grep -q '^OpenSSH_'
  $RUN -c alias.keygen='!ssh-keygen' keygen -q -t ed25519 -N '' -C test -f "$key"
else
  # Under bwrap an emulated arm64 program cannot start another one, so the image's
  # static ssh programs run directly under qemu.
  qemu-aarch64-static "$ROOTFS/usr/bin/ssh" -V 2>&1 | grep -q '^OpenSSH_'
  qemu-aarch64-static "$ROOTFS/usr/bin/ssh-keygen" -q -t ed25519 -N '' -C test \
    -f "$SHARED_DIR/key"
fi
grep -q '^ssh-ed25519 ' "$SHARED_DIR/key.pub"
