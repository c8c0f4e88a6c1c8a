#!/bin/sh
# Busybox applets run through the image's login-shell entrypoint as user 65532.
# Contract (README, Layout): ROOTFS is the unpacked image root; RUN runs the image,
# its arguments replacing Cmd as in `docker run IMAGE ARGS`. Also set: IMAGE, ARCH
# (amd64, arm64), RUNTIME (bwrap, docker), CONFIG (the OCI config JSON), SHARED_DIR
# (a host folder mounted in the image at SHARED_DIR_IN_IMAGE) and PORT_<n> for each port of
# a `# ports:` line.
set -eu
test "$($RUN -c 'echo hello')" = hello
# Shell builtins only, so that the check also runs under qemu (see below).
test "$($RUN -c 'while read -r key value rest; do [ "$key" = Uid: ] && echo "$value"; done </proc/self/status')" = 65532
test "$($RUN -c 'printf "%s\n" "$HOME"')" = /home/nonroot
$RUN -c 'test -w /tmp'
# A pipeline forks and execs each applet. Under qemu without a binfmt handler an
# emulated program cannot exec another one, so pipelines are checked natively only.
if [ "$ARCH" = amd64 ]; then
  test "$($RUN -c 'id -u')" = 65532
  test "$($RUN -c 'printf "b\na\n" | sort | head -n 1')" = a
  test "$($RUN -c 'echo 6 7 | awk "{ print \$1 * \$2 }"')" = 42
fi
