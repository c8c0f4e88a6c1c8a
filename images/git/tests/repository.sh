#!/bin/sh
# git creates a repository in the shared folder, commits a file and reads it back.
# Contract (README, Layout): ROOTFS is the unpacked image root; RUN runs the image,
# its arguments appended to the entrypoint (/usr/bin/git). Also set: IMAGE, ARCH
# (amd64, arm64), RUNTIME (bwrap, docker), CONFIG (the OCI config JSON) and SHARED_DIR
# (a host folder mounted in the image at SHARED_DIR_IN_IMAGE).
set -eu
repo="$SHARED_DIR_IN_IMAGE/repo"
# The image has no HOME configuration, so the identity comes from -c. Automatic
# maintenance, like `git fsck`, would start a second git process, which an arm64 image
# under bwrap cannot do (no binfmt handler).
git_in_repo="-C $repo -c user.name=Test -c user.email=test@example.org -c maintenance.auto=false"
$RUN init -q -b main "$repo"
echo hello >"$SHARED_DIR/repo/greeting"
$RUN $git_in_repo add greeting
$RUN $git_in_repo commit -q -m 'Add greeting'
test "$($RUN -C "$repo" log --format=%s)" = 'Add greeting'
test "$($RUN -C "$repo" cat-file -p HEAD:greeting)" = hello
test "$($RUN -C "$repo" cat-file -t HEAD)" = commit
