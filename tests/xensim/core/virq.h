/* VIRQ_DOM_EXC of a simulated host. Real Xen raises it when a domain shuts down,
 * crashes or dies; xenstored then re-checks its domains and fires @releaseDomain.
 * Here the "virq line" is a FIFO, DIR/virq-dom-exc, that the shim hands to xenstored
 * as its event-channel fd: one byte is one VIRQ. */
#ifndef XENSIM_VIRQ_H
#define XENSIM_VIRQ_H

#ifdef __cplusplus
extern "C" {
#endif

#define XSIM_VIRQ_FIFO "virq-dom-exc"

/* Raises the VIRQ; a host without a running xenstored is not an error (nobody listens,
 * as on a real host before xenstored starts). Returns 0 or -1 with errno. */
int xsim_raise_virq(const char* dir);

#ifdef __cplusplus
}
#endif

#endif
