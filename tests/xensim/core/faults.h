/* Fault switches and tunables of a simulated host: plain files a test creates, so any
 * process of the host sees them at once without coordination.
 *   DIR/faults/NAME          applies to every domain
 *   DIR/faults/NAME@DOMNAME  applies to the domain named DOMNAME only
 *   DIR/settings/NAME        a tunable (a number)
 * tests/xensim/README.md lists the names. */
#ifndef XENSIM_FAULTS_H
#define XENSIM_FAULTS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 if the switch is on for domname (NULL: only the host-wide file counts); its file's
 * content, blanks trimmed, goes to value (may be NULL). */
int xsim_fault(const char* dir, const char* name, const char* domname, char* value, size_t len);
/* The number in the switch file, or dflt if the switch is off or holds no number. */
long long xsim_fault_number(const char* dir, const char* name, const char* domname, long long dflt);
long long xsim_setting(const char* dir, const char* name, long long dflt);

#ifdef __cplusplus
}
#endif

#endif
