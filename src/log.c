/*
 * log.c - a line is formatted whole and written with one write(2), so
 * lines from different threads never interleave.
 */
#include <pthread.h>
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

#define LOG_LINE_MAX 2048

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

/* One line, prefixed with the time and level, in one write(2). */
static void log_emit(log_level_t level, const char *msg)
{
    static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };
    char line[LOG_LINE_MAX + 64];
    struct timeval tv;
    struct tm tm;
    size_t n;

    if (atomic_load(&log_syslog)) {
        syslog(prio[level], "%s %s", log_names[level], msg);
        return;
    }
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03dZ %s %s", (int)(tv.tv_usec / 1000),
                          log_names[level], msg);
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0)
        return;
}

/* A message identical to the last one is written at most once a second;
 * the ones held back are counted in a "last message repeated" line, as
 * syslogd does, so that an error in a loop cannot fill the disk. */
void log_write(log_level_t level, const char *fmt, ...)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static char last[LOG_LINE_MAX];
    static log_level_t last_level;
    static time_t last_sec;
    static unsigned long repeats;
    char msg[LOG_LINE_MAX];
    va_list ap;

    if (!log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    time_t now = time(NULL);
    pthread_mutex_lock(&lock);
    if (level == last_level && now == last_sec && strcmp(msg, last) == 0) {
        repeats++;
    } else {
        if (repeats > 0) {
            char rep[64];
            snprintf(rep, sizeof(rep), "last message repeated %lu times", repeats);
            log_emit(last_level, rep);
            repeats = 0;
        }
        log_emit(level, msg);
        memcpy(last, msg, sizeof(last));
        last_level = level;
        last_sec = now;
    }
    pthread_mutex_unlock(&lock);
}
