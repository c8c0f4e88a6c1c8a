#!/bin/sh
# nginx serves its welcome page on port 8080 and exits 0 on SIGQUIT.
# ports: 8080
# Contract (README, Layout): ROOTFS is the unpacked image root; RUN runs the image,
# its arguments replacing Cmd as in `docker run IMAGE ARGS`. Also set: IMAGE, ARCH
# (amd64, arm64), RUNTIME (bwrap, docker), CONFIG (the OCI config JSON), SHARED_DIR
# (a host folder mounted in the image at SHARED_DIR_IN_IMAGE) and PORT_<n> for each port of
# a `# ports:` line.
set -eu
log="$SHARED_DIR/nginx.log"
$RUN >"$log" 2>&1 &
pid=$!
tries=0
until curl -fs "http://127.0.0.1:$PORT_8080/" >"$SHARED_DIR/index.html" 2>/dev/null; do
  tries=$((tries + 1))
  # About 30 s: nginx starts slowly under qemu.
  if [ "$tries" -ge 300 ] || ! kill -0 "$pid" 2>/dev/null; then
    echo "nginx did not answer on port 8080; its log:"
    cat "$log"
    kill -KILL "$pid" 2>/dev/null || true
    exit 1
  fi
  sleep 0.1
done
grep -q '<title>Welcome to nginx!</title>' "$SHARED_DIR/index.html"
kill -QUIT "$pid"
status=0
wait "$pid" || status=$?
cat "$log"
test "$status" -eq 0
if grep -E '\[(emerg|alert|crit)\]' "$log"; then
  exit 1
fi
