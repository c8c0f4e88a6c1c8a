/* The entrypoint of the image that xtask/tests/imagetest.rs builds: a static program
 * whose subcommands report what the runtime gave it (ids, folder, environment, PID) and
 * serve HTTP until SIGQUIT, so that a test script can check each runtime setting. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;

static void on_signal(int signal) { stop_signal = signal; }

/* Serves HTTP requests on PORT (all addresses) until SIGQUIT or SIGTERM arrives. */
static int serve(int port) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal; /* no SA_RESTART: the signal must interrupt accept() */
    sigaction(SIGQUIT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    int server = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(server, (struct sockaddr *)&address, sizeof address) != 0 || listen(server, 8) != 0) {
        perror("bind");
        return 1;
    }
    fprintf(stderr, "listening on %d\n", port);
    while (!stop_signal) {
        int client = accept(server, NULL, NULL);
        if (client < 0)
            continue;
        char request[1024];
        if (read(client, request, sizeof request) > 0) {
            const char *response = "HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nprobe\n";
            if (write(client, response, strlen(response)) < 0)
                perror("write");
        }
        close(client);
    }
    printf("stopped by signal %d\n", (int)stop_signal);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        puts("probe: no arguments");
        return 0;
    }
    const char *command = argv[1];
    if (!strcmp(command, "args")) {
        for (int i = 2; i < argc; i++)
            puts(argv[i]);
    } else if (!strcmp(command, "id")) {
        printf("%d:%d\n", (int)getuid(), (int)getgid());
    } else if (!strcmp(command, "pwd")) {
        char folder[4096];
        puts(getcwd(folder, sizeof folder) ? folder : "(unknown)");
    } else if (!strcmp(command, "env") && argc > 2) {
        const char *value = getenv(argv[2]);
        puts(value ? value : "(unset)");
    } else if (!strcmp(command, "pid")) {
        printf("%d\n", (int)getpid());
    } else if (!strcmp(command, "write") && argc > 2) {
        FILE *file = fopen(argv[2], "w");
        if (!file) {
            perror(argv[2]);
            return 1;
        }
        fputs("written\n", file);
        fclose(file);
    } else if (!strcmp(command, "serve") && argc > 2) {
        return serve(atoi(argv[2]));
    } else {
        fprintf(stderr, "probe: unknown command `%s`\n", command);
        return 2;
    }
    return 0;
}
