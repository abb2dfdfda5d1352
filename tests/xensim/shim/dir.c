#include "shim.h"

#include <stdio.h>
#include <stdlib.h>

const char* xsim_shim_dir(void) {
    const char* dir = getenv("XENSIM_DIR");
    if (!dir || !*dir) {
        fprintf(stderr, "xensim-shim: XENSIM_DIR is not set; source the host's env file "
                        "(xensim up DIR writes DIR/env)\n");
        return NULL;
    }
    return dir;
}
