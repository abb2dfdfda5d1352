/* Shared bits of the hypervisor shim (libxensim-shim.so), preloaded into xenstored and
 * stubdomd in place of the hypervisor. */
#ifndef XENSIM_SHIM_H
#define XENSIM_SHIM_H

/* The shim builds with hidden visibility; only the entry points it replaces are
 * exported, so they win the symbol lookup over libxenctrl & co. */
#define XSIM_EXPORT __attribute__((visibility("default")))

/* The host this process belongs to ($XENSIM_DIR), or NULL after printing why not. */
const char* xsim_shim_dir(void);

#endif
