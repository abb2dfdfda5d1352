/* Xen's tool headers declare no C linkage; C++ users of the sim include them here. */
#ifndef XENSIM_XEN_CXX_H
#define XENSIM_XEN_CXX_H

extern "C" {
#include <xenstore.h>
#ifdef XENSIM_WANT_XLUTIL
#include <libxlutil.h>
#endif
}

#endif
