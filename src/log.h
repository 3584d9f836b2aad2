/*
 * log.h - one line per event: time, level, message with key=value fields,
 * to stderr or syslog. Safe to call from any thread.
 */
#ifndef RP_LOG_H
#define RP_LOG_H

typedef enum {
    LOG_LEVEL_DEBUG = 0,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR,
} log_level_t;

int log_level_parse(const char *s, log_level_t *out);
const char *log_level_name(log_level_t level);
void log_set_level(log_level_t level);
/* Switches output to syslog (ident "ringproxy") or back to stderr. */
void log_use_syslog(int on);
int log_enabled(log_level_t level);
void log_write(log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) do { if (log_enabled(LOG_LEVEL_DEBUG)) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...) log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
