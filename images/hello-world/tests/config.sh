#!/bin/sh
# The image runs its greeting program as the unprivileged user 65532.
# Contract (README, Layout): ROOTFS is the unpacked image root; RUN runs the image,
# its arguments replacing Cmd as in `docker run IMAGE ARGS`. Also set: IMAGE, ARCH
# (amd64, arm64), RUNTIME (bwrap, docker), CONFIG (the OCI config JSON), SHARED_DIR
# (a host folder mounted in the image at SHARED_DIR_IN_IMAGE) and PORT_<n> for each port of
# a `# ports:` line.
set -eu
python3 - "$CONFIG" <<'PYTHON'
import json, sys
config = json.load(open(sys.argv[1]))["config"]
assert config.get("User") == "65532", f"User is {config.get('User')!r}"
assert config.get("Entrypoint") == ["/usr/bin/hello"], f"Entrypoint is {config.get('Entrypoint')!r}"
PYTHON
