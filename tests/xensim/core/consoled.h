/* Talking to the host's xenconsoled (xensim-consoled, one per simulated host, started by
 * `xensim up`): one request a connection on DIR/consoled.sock, answered once done. */
#ifndef XENSIM_CONSOLED_H
#define XENSIM_CONSOLED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XSIM_CONSOLED_SOCKET "consoled.sock"

/* verb "open": serve the domain's console 0 (make its pty, publish console/tty);
 * "close": let go of it. 0 once done; -1 with errno (ENOENT/ECONNREFUSED: no
 * xenconsoled on this host; EIO: it refused, its reason on stderr). */
int xsim_consoled_request(const char* dir, const char* verb, uint32_t domid);

/* The socket's address for DIR: its path, or a path through /proc/self/fd/N to an open
 * DIR when the path is too long for sun_path (*dirfd is then that fd, else -1; the
 * caller closes it). 0, or -1 with errno. */
struct sockaddr_un;
int xsim_consoled_address(const char* dir, struct sockaddr_un* addr, int* dirfd);

#ifdef __cplusplus
}
#endif

#endif
