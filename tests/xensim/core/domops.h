/* What the hypervisor does on a domctl, for a simulated host: the one implementation
 * behind the shim's xc_domain_* and the fake xl, so both behave the same. Each returns
 * 0, or -1 with errno (ESRCH: no such domain; EINVAL: not allowed on that domain). */
#ifndef XENSIM_DOMOPS_H
#define XENSIM_DOMOPS_H

#include <stdint.h>
#include <sys/types.h>

#include "domtable.h"

#ifdef __cplusplus
extern "C" {
#endif

int xsim_dom_pause(const char* dir, uint32_t domid);
/* Unpausing a PV domain that has a target (a stub domain) for the first time starts
 * its simulated boot (the xensim-dom helper). */
int xsim_dom_unpause(const char* dir, uint32_t domid);
int xsim_dom_shutdown(const char* dir, uint32_t domid, unsigned reason);
/* Ends the domain's boot process, drops it from the table, has the sim's xenconsoled let
 * go of its console and raises VIRQ_DOM_EXC, so xenstored releases it and fires
 * @releaseDomain. */
int xsim_dom_destroy(const char* dir, uint32_t domid);
/* Records pid as the domain's VNC server (role 'v': its vfb backend, a QEMU serving
 * DIR/vnc/PORT.sock), ended with the domain. */
int xsim_dom_attach_vnc(const char* dir, uint32_t domid, pid_t pid);
/* Has the host's xenconsoled (xensim-consoled) serve the domain's console 0: once this
 * returns 0 its pty is published at /local/domain/DOMID/console/tty. */
int xsim_dom_start_console(const char* dir, uint32_t domid);
int xsim_dom_set_target(const char* dir, uint32_t domid, uint32_t target);
/* Free host memory as Xen reports it: total minus every domain's, unless the
 * free-memory-kib fault says otherwise. */
uint64_t xsim_free_kib(const char* dir, struct xsim_table* t);

#ifdef __cplusplus
}
#endif

#endif
