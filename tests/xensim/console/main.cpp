// xensim-console DIR DOMID: what xenconsoled does for one PV domain's console 0 on the
// simulated host. It makes a pty, publishes its slave at /local/domain/DOMID/console/tty
// (the dom0-owned node libxl made empty) and copies the domain's console output to it.
// The "ring" is the FIFO DIR/console/DOMID, which the domain's simulated life
// (xensim-dom) writes; console input from the pty is read and dropped. It ends with the
// domain (destroy kills it; it also checks the table), and the pty closes with it.
#include "domtable.h"

#include "xen_cxx.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <poll.h>
#include <string>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

namespace {

bool domainExists(const char* dir, uint32_t domid) {
    xsim_table t;
    if (xsim_table_open(&t, dir, 0))
        return true; // cannot tell: keep serving
    bool exists = xsim_table_find(&t, domid) != nullptr;
    xsim_table_close(&t);
    return exists;
}

bool writeAll(int fd, const char* data, ssize_t n) {
    while (n > 0) {
        ssize_t w = write(fd, data, static_cast<size_t>(n));
        if (w < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (w <= 0)
            return false;
        data += w;
        n -= w;
    }
    return true;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: xensim-console DIR DOMID\n");
        return 2;
    }
    const char* dir = argv[1];
    const uint32_t domid = static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 10));
    setvbuf(stdout, nullptr, _IOLBF, 0);
    setenv("XENSTORED_PATH", (std::string(dir) + "/socket").c_str(), 1);

    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master)) {
        std::perror("xensim-console: pty");
        return 1;
    }
    const std::string slave = ptsname(master);
    // xenconsoled keeps its ptys raw, so what the domain prints reaches readers unchanged
    // and nothing is echoed back to it. Holding the slave open keeps that mode when a
    // reader comes and goes.
    int slaveFd = open(slave.c_str(), O_RDWR | O_NOCTTY);
    termios mode{};
    if (slaveFd < 0 || tcgetattr(slaveFd, &mode)) {
        std::perror("xensim-console: slave");
        return 1;
    }
    cfmakeraw(&mode);
    tcsetattr(slaveFd, TCSANOW, &mode);

    const std::string ringDir = std::string(dir) + "/console";
    const std::string ring = ringDir + "/" + std::to_string(domid);
    mkdir(ringDir.c_str(), 0700);
    unlink(ring.c_str());
    // Opened read-write: the FIFO never reports end-of-file between the domain's writes.
    if (mkfifo(ring.c_str(), 0600)) {
        std::perror("xensim-console: mkfifo");
        return 1;
    }
    int ringFd = open(ring.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (ringFd < 0) {
        std::perror("xensim-console: ring");
        return 1;
    }

    std::unique_ptr<xs_handle, decltype(&xs_close)> xs(xs_open(0), &xs_close);
    const std::string tty = "/local/domain/" + std::to_string(domid) + "/console/tty";
    if (!xs || !xs_write(xs.get(), XBT_NULL, tty.c_str(), slave.data(),
                         static_cast<unsigned>(slave.size()))) {
        std::perror("xensim-console: publishing the tty");
        return 1;
    }
    std::printf("xensim-console: %s = %s\n", tty.c_str(), slave.c_str());

    char buffer[4096];
    while (domainExists(dir, domid)) {
        pollfd fds[2] = {{ringFd, POLLIN, 0}, {master, POLLIN, 0}};
        if (poll(fds, 2, 200) < 0 && errno != EINTR)
            break;
        if (fds[0].revents & POLLIN) {
            ssize_t n = read(ringFd, buffer, sizeof buffer);
            if (n > 0 && !writeAll(master, buffer, n))
                std::printf("xensim-console: writing the pty: %s\n", std::strerror(errno));
        }
        if (fds[1].revents & POLLIN)
            (void)read(master, buffer, sizeof buffer); // console input: the sim's domain reads none
    }
    unlink(ring.c_str());
    return 0;
}
