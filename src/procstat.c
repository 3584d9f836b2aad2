/*
 * procstat.c - /proc/self/stat fields by number (proc(5)), after the
 * command name, which may hold spaces and parentheses.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "procstat.h"

/* Seconds since the epoch at boot: the "btime" line of /proc/stat. */
static int procstat_boot_time(unsigned long long *btime)
{
    char line[256];
    int rc = -1;
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return -1;
    while (rc < 0 && fgets(line, sizeof(line), f) != NULL)
        rc = sscanf(line, "btime %llu", btime) == 1 ? 0 : -1;
    fclose(f);
    return rc;
}

static int procstat_self(procstat_t *ps)
{
    char buf[1024];
    unsigned long long utime, stime, start, rss, btime;
    FILE *f = fopen("/proc/self/stat", "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    /* From field 3 (state): utime is 14, stime 15, starttime 22, rss 24. */
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
                            "%*d %*d %*d %*d %*d %*d %llu %*u %llu", &utime, &stime, &start,
                            &rss) != 4)
        return -1;
    double hz = (double)sysconf(_SC_CLK_TCK);
    ps->cpu_seconds = (double)(utime + stime) / hz;
    ps->resident_bytes = rss * (unsigned long long)sysconf(_SC_PAGESIZE);
    if (procstat_boot_time(&btime) < 0)
        return -1;
    ps->start_time = (double)btime + (double)start / hz;
    return 0;
}

int procstat_read(procstat_t *ps)
{
    struct rlimit rl;
    struct dirent *de;
    DIR *dir;

    memset(ps, 0, sizeof(*ps));
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        ps->max_fds = (uint64_t)rl.rlim_cur;
    if ((dir = opendir("/proc/self/fd")) == NULL)
        return -1;
    while ((de = readdir(dir)) != NULL)
        ps->open_fds += de->d_name[0] != '.';
    closedir(dir);
    /* Less the one opendir holds. */
    ps->open_fds--;
    return procstat_self(ps);
}
