/* realxen-qmp SOCKET COMMAND: one QMP conversation with a device model, as libxl has it:
 * read the greeting, send qmp_capabilities, then COMMAND ({"execute":"query-status"}),
 * and print the answer's line. The realxen scenario uses it on the socket stubdomd's
 * vchan-socket-proxy serves, so the answer comes from QEMU inside the stub domain.
 * Exit status: 0 an answer was printed, 1 otherwise (the reason on stderr). */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* One line of QMP (QEMU ends each message with "\r\n"); 0 at EOF. */
static int read_line(int fd, char *buf, size_t size) {
    size_t n = 0;
    while (n + 1 < size) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r <= 0)
            return 0;
        if (c == '\n')
            break;
        buf[n++] = c;
    }
    buf[n] = '\0';
    return 1;
}

/* The next line that is not an asynchronous event. */
static int read_reply(int fd, char *buf, size_t size) {
    while (read_line(fd, buf, size))
        if (!strstr(buf, "\"event\""))
            return 1;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: realxen-qmp SOCKET COMMAND-JSON\n");
        return 2;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof addr.sun_path) {
        fprintf(stderr, "realxen-qmp: socket path too long\n");
        return 1;
    }
    strcpy(addr.sun_path, argv[1]);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("realxen-qmp: connect");
        return 1;
    }
    static char line[65536];
    if (!read_line(fd, line, sizeof line) || !strstr(line, "\"QMP\"")) {
        fprintf(stderr, "realxen-qmp: no QMP greeting\n");
        return 1;
    }
    printf("greeting: %s\n", line);
    static const char caps[] = "{\"execute\":\"qmp_capabilities\"}\r\n";
    if (write(fd, caps, sizeof caps - 1) != (ssize_t)(sizeof caps - 1) ||
        !read_reply(fd, line, sizeof line) || !strstr(line, "\"return\"")) {
        fprintf(stderr, "realxen-qmp: qmp_capabilities refused: %s\n", line);
        return 1;
    }
    size_t len = strlen(argv[2]);
    if (write(fd, argv[2], len) != (ssize_t)len || write(fd, "\r\n", 2) != 2 ||
        !read_reply(fd, line, sizeof line)) {
        fprintf(stderr, "realxen-qmp: no answer to %s\n", argv[2]);
        return 1;
    }
    printf("answer: %s\n", line);
    close(fd);
    return strstr(line, "\"return\"") ? 0 : 1;
}
