/*
 * procstat.h - the process's own figures from /proc/self, in the units of
 * Prometheus's process_* metrics.
 */
#ifndef RP_PROCSTAT_H
#define RP_PROCSTAT_H

#include <stdint.h>

typedef struct procstat {
    uint64_t open_fds;
    uint64_t max_fds;          /* the soft RLIMIT_NOFILE */
    uint64_t resident_bytes;
    double cpu_seconds;        /* user + system */
    double start_time;         /* seconds since the epoch */
} procstat_t;

/* Fills ps; -1 if /proc cannot be read (the fields read stay 0). */
int procstat_read(procstat_t *ps);

#endif
