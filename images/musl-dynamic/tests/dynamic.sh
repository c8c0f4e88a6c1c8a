#!/bin/sh
# A dynamically linked program runs with the image's musl as user 65532. The image has
# no compiler or headers, so the program is compiled on the host, linked against the
# image's own libc, put in the shared folder and started through RUN. The host has no
# musl loader, so only the image can run it.
# Contract (README, Layout): ROOTFS is the unpacked image root; RUN runs the image,
# its arguments replacing Cmd as in `docker run IMAGE ARGS`. Also set: IMAGE, ARCH
# (amd64, arm64), RUNTIME (bwrap, docker), CONFIG (the OCI config JSON), SHARED_DIR
# (a host folder mounted in the image at SHARED_DIR_IN_IMAGE) and PORT_<n> for each port of
# a `# ports:` line.
set -eu
case "$ARCH" in
  amd64) compiler=cc loader=ld-musl-x86_64.so.1 ;;
  arm64) compiler=aarch64-linux-gnu-gcc loader=ld-musl-aarch64.so.1 ;;
  *) echo "no host compiler is known for $ARCH"; exit 1 ;;
esac
mkdir "$SHARED_DIR/lib"
# The linker records the name it found, libc.so, which musl's loader takes as itself.
cp "$ROOTFS/lib/$loader" "$SHARED_DIR/lib/libc.so"
cat >"$SHARED_DIR/hello.c" <<'C'
/* No headers: the host's are glibc's. The entry point does what musl's crt1 does. */
int printf(const char *, ...);
unsigned getuid(void);
int __libc_start_main(int (*)(int, char **, char **), int, char **, void (*)(void),
                      void (*)(void), void (*)(void));

static int greet(int argc, char **argv, char **envp) {
    (void)argc, (void)argv, (void)envp;
    printf("hello from musl as uid %u\n", getuid());
    return 0;
}

void start_c(long *stack) {
    __libc_start_main(greet, (int)stack[0], (char **)(stack + 1), 0, 0, 0);
}

#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n xor %rbp, %rbp\n mov %rsp, %rdi\n"
        " andq $-16, %rsp\n call start_c\n hlt\n");
#elif defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n mov x29, #0\n mov x30, #0\n mov x0, sp\n"
        " and sp, x0, #-16\n b start_c\n");
#endif
C
"$compiler" -O2 -fno-stack-protector -fno-pie -no-pie -nostdlib -nostartfiles \
  -Wl,--dynamic-linker=/lib/$loader -o "$SHARED_DIR/hello" "$SHARED_DIR/hello.c" \
  -L "$SHARED_DIR/lib" -lc
if [ "$ARCH" = amd64 ] && [ ! -e "/lib/$loader" ] && "$SHARED_DIR/hello" 2>/dev/null; then
  echo "the host ran the program without musl, so this test proves nothing"
  exit 1
fi
output=$($RUN "$SHARED_DIR_IN_IMAGE/hello")
echo "$output"
test "$output" = "hello from musl as uid 65532"
