// xensim-consoled DIR: xenconsoled of a simulated host, one process for every domain's
// console 0, as the real one is. The toolstack side (xsim_dom_start_console, xsim_dom_destroy)
// asks it on DIR/consoled.sock to "open DOMID" or "close DOMID" and waits for its "ok".
// For an open it makes a pty in raw mode, publishes its slave's path at
// /local/domain/DOMID/console/tty (the dom0-owned node libxl made empty) and copies what
// the domain prints to it. The domain's "ring" is the FIFO DIR/console/DOMID, which the
// domain's simulated life (xensim-dom) writes. Console input from the pty goes, for a stub
// domain, to what its console 0 carries on Xen: the Linux stub's QEMU has the guest's first
// serial port on /dev/hvc0 (stubimage/init), so typed bytes reach the guest's COM1; the sim
// plays that guest here, as a serial getty in cooked mode would, echoing each byte back
// (CR as CR LF) — enough for a line to round-trip through stubdomd's OpenConsole. Input to
// any other domain is read and dropped (the sim's domains read none). A close lets go of the
// pty, so its readers see it close.
//
// One epoll set over every console: the cost of a domain's output, or of opening and
// closing a console, does not depend on how many other domains there are.
#include "consoled.h"

#include "sim_cxx.h"
#include "xen_cxx.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

namespace {

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(Fd&& o) noexcept : fd_(o.release()) {}
    Fd& operator=(Fd&& o) noexcept {
        reset(o.release());
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset(int fd = -1) {
        if (fd_ >= 0)
            close(fd_);
        fd_ = fd;
    }

private:
    int fd_;
};

// What a console keeps of output its pty cannot take yet (nobody reads it): beyond
// this, output is dropped, as xenconsoled drops what overflows its buffer.
constexpr size_t kPendingMax = 64 * 1024;

struct Console {
    uint32_t domid = 0;
    Fd master;
    Fd slave; // held, so the raw mode stays when a reader comes and goes (as xenconsoled)
    Fd ring;
    std::string ringPath;
    std::string pending;
};

// epoll keys: what kind of fd, and the domid or fd it belongs to.
enum class Kind : uint64_t { Listen = 1, Client = 2, Ring = 3, Master = 4 };
uint64_t key(Kind k, uint32_t id) {
    return static_cast<uint64_t>(k) << 32 | id;
}

class Consoled {
public:
    explicit Consoled(std::string dir) : dir_(std::move(dir)) {}

    bool start();
    void run();

private:
    std::string open(uint32_t domid);
    void close(uint32_t domid);
    void request(int client);
    void copyRing(Console& c);
    void flush(Console& c);
    void input(Console& c);
    bool publish(uint32_t domid, const std::string& tty);
    void watch(int fd, uint32_t events, uint64_t k, int op = EPOLL_CTL_ADD);

    std::string dir_;
    Fd epoll_;
    Fd listen_;
    std::unique_ptr<xs_handle, decltype(&xs_close)> xs_{nullptr, &xs_close};
    std::map<uint32_t, std::unique_ptr<Console>> consoles_;
    std::map<int, Fd> clients_;
};

void Consoled::watch(int fd, uint32_t events, uint64_t k, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = k;
    if (epoll_ctl(epoll_.get(), op, fd, &ev) < 0)
        std::printf("xensim-consoled: epoll_ctl: %s\n", std::strerror(errno));
}

bool Consoled::start() {
    // Three fds a console (master, slave, ring): a thousand domains need more than the
    // usual soft limit of 1024.
    rlimit nofile{};
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    mkdir((dir_ + "/console").c_str(), 0700);
    epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
    listen_.reset(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_un addr{};
    int dirfd = -1;
    if (!epoll_ || !listen_ || xsim_consoled_address(dir_.c_str(), &addr, &dirfd)) {
        std::perror("xensim-consoled: socket");
        return false;
    }
    Fd dirHold(dirfd);
    unlink((dir_ + "/" + XSIM_CONSOLED_SOCKET).c_str());
    if (bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
        listen(listen_.get(), 256) < 0) {
        std::perror("xensim-consoled: bind");
        return false;
    }
    watch(listen_.get(), EPOLLIN, key(Kind::Listen, 0));
    return true;
}

bool Consoled::publish(uint32_t domid, const std::string& tty) {
    const std::string path = "/local/domain/" + std::to_string(domid) + "/console/tty";
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!xs_)
            xs_.reset(xs_open(0));
        if (xs_ && xs_write(xs_.get(), XBT_NULL, path.c_str(), tty.data(),
                            static_cast<unsigned>(tty.size())))
            return true;
        xs_.reset(); // xenstored restarted, or our connection broke: once more afresh
    }
    return false;
}

std::string Consoled::open(uint32_t domid) {
    if (consoles_.count(domid))
        return "";
    auto c = std::make_unique<Console>();
    c->domid = domid;
    c->master.reset(posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    if (!c->master || grantpt(c->master.get()) || unlockpt(c->master.get()))
        return std::string("pty: ") + std::strerror(errno);
    const std::string slave = ptsname(c->master.get());
    // xenconsoled keeps its ptys raw, so what the domain prints reaches readers unchanged
    // and nothing is echoed back to it.
    c->slave.reset(::open(slave.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
    termios mode{};
    if (!c->slave || tcgetattr(c->slave.get(), &mode))
        return "slave " + slave + ": " + std::strerror(errno);
    cfmakeraw(&mode);
    tcsetattr(c->slave.get(), TCSANOW, &mode);

    c->ringPath = dir_ + "/console/" + std::to_string(domid);
    unlink(c->ringPath.c_str());
    if (mkfifo(c->ringPath.c_str(), 0600))
        return "mkfifo " + c->ringPath + ": " + std::strerror(errno);
    // Opened read-write: the FIFO never reports end-of-file between the domain's writes.
    c->ring.reset(::open(c->ringPath.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!c->ring)
        return "ring " + c->ringPath + ": " + std::strerror(errno);
    if (!publish(domid, slave))
        return "publishing console/tty: " + std::string(std::strerror(errno));
    watch(c->ring.get(), EPOLLIN, key(Kind::Ring, domid));
    watch(c->master.get(), EPOLLIN, key(Kind::Master, domid));
    std::printf("xensim-consoled: domain %u: console/tty = %s\n", domid, slave.c_str());
    consoles_[domid] = std::move(c);
    return "";
}

void Consoled::close(uint32_t domid) {
    auto it = consoles_.find(domid);
    if (it == consoles_.end())
        return;
    unlink(it->second->ringPath.c_str());
    consoles_.erase(it); // closing the fds takes them out of the epoll set
    std::printf("xensim-consoled: domain %u: console closed\n", domid);
}

void Consoled::request(int client) {
    char buf[128];
    ssize_t n = recv(client, buf, sizeof buf - 1, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    std::string reply;
    if (n > 0) {
        buf[n] = '\0';
        char verb[16];
        unsigned domid;
        if (std::sscanf(buf, "%15s %u", verb, &domid) != 2)
            reply = "bad request";
        else if (!std::strcmp(verb, "open"))
            reply = open(domid);
        else if (!std::strcmp(verb, "close"))
            close(domid);
        else
            reply = std::string("unknown request ") + verb;
        if (reply.empty())
            reply = "ok";
        send(client, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    clients_.erase(client);
}

void Consoled::flush(Console& c) {
    while (!c.pending.empty()) {
        ssize_t w = write(c.master.get(), c.pending.data(), c.pending.size());
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        c.pending.erase(0, static_cast<size_t>(w));
    }
    watch(c.master.get(), EPOLLIN | (c.pending.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT)),
          key(Kind::Master, c.domid), EPOLL_CTL_MOD);
}

void Consoled::copyRing(Console& c) {
    char buf[16384];
    ssize_t n;
    while ((n = read(c.ring.get(), buf, sizeof buf)) > 0)
        c.pending.append(buf, std::min(static_cast<size_t>(n), kPendingMax - c.pending.size()));
    flush(c);
}

void Consoled::input(Console& c) {
    char buf[4096];
    ssize_t n;
    // Looked up on input, not at open: a stub gets its target after xl creates it.
    const auto dom = xsim::findDomain(dir_.c_str(), c.domid);
    const bool guestSerial = dom && dom->target != XSIM_NO_TARGET;
    while ((n = read(c.master.get(), buf, sizeof buf)) > 0) {
        if (!guestSerial)
            continue;
        for (ssize_t i = 0; i < n && c.pending.size() + 2 <= kPendingMax; i++) {
            if (buf[i] == '\r')
                c.pending += "\r\n";
            else
                c.pending += buf[i];
        }
    }
    if (guestSerial)
        flush(c);
}

void Consoled::run() {
    epoll_event events[64];
    for (;;) {
        int n = epoll_wait(epoll_.get(), events, 64, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            std::perror("xensim-consoled: epoll_wait");
            return;
        }
        for (int i = 0; i < n; i++) {
            const auto kind = static_cast<Kind>(events[i].data.u64 >> 32);
            const auto id = static_cast<uint32_t>(events[i].data.u64);
            if (kind == Kind::Listen) {
                int fd;
                while ((fd = accept4(listen_.get(), nullptr, nullptr,
                                     SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
                    clients_.emplace(fd, Fd(fd));
                    watch(fd, EPOLLIN, key(Kind::Client, static_cast<uint32_t>(fd)));
                }
                continue;
            }
            if (kind == Kind::Client) {
                request(static_cast<int>(id));
                continue;
            }
            auto it = consoles_.find(id);
            if (it == consoles_.end())
                continue; // closed by an earlier event of this round
            Console& c = *it->second;
            if (kind == Kind::Ring)
                copyRing(c);
            else if (events[i].events & EPOLLIN)
                input(c);
            if (kind == Kind::Master && (events[i].events & EPOLLOUT))
                flush(c);
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: xensim-consoled DIR\n");
        return 2;
    }
    setvbuf(stdout, nullptr, _IOLBF, 0);
    std::signal(SIGPIPE, SIG_IGN);
    const std::string dir = argv[1];
    setenv("XENSTORED_PATH", (dir + "/socket").c_str(), 1);
    Consoled consoled(dir);
    if (!consoled.start())
        return 1;
    std::printf("xensim-consoled: serving %s/%s\n", dir.c_str(), XSIM_CONSOLED_SOCKET);
    consoled.run();
    return 1;
}
