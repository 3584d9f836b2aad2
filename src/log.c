/*
 * log.c - a line is formatted whole and written with one write(2), so
 * lines from different threads never interleave.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static atomic_int log_level = LOG_LEVEL_INFO;
static atomic_int log_syslog = 0;

static const char *const log_names[] = { "debug", "info", "warn", "error" };

int log_level_parse(const char *s, log_level_t *out)
{
    for (int i = 0; i <= LOG_LEVEL_ERROR; i++) {
        if (strcasecmp(s, log_names[i]) == 0) {
            *out = (log_level_t)i;
            return 0;
        }
    }
    return -1;
}

const char *log_level_name(log_level_t level)
{
    return log_names[level];
}

void log_set_level(log_level_t level)
{
    atomic_store(&log_level, (int)level);
}

void log_use_syslog(int on)
{
    if (on && !atomic_load(&log_syslog))
        openlog("ringproxy", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    else if (!on && atomic_load(&log_syslog))
        closelog();
    atomic_store(&log_syslog, on);
}

int log_enabled(log_level_t level)
{
    return (int)level >= atomic_load_explicit(&log_level, memory_order_relaxed);
}

void log_write(log_level_t level, const char *fmt, ...)
{
    static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };
    char line[2048];
    size_t n;
    va_list ap;

    if (!log_enabled(level))
        return;
    if (atomic_load(&log_syslog)) {
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        syslog(prio[level], "%s %s", log_names[level], line);
        return;
    }
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03dZ %s ",
                          (int)(tv.tv_usec / 1000), log_names[level]);
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += (size_t)m;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0)
        return;
}
