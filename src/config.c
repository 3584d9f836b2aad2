/*
 * config.c - the options table drives both the file parser and the
 * command-line overrides, so every option has one name and one parser.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "command.h"
#include "config.h"

/* A line longer than this is an error rather than a buffer to grow. */
#define CONFIG_LINE_MAX (1 << 20)
/* Nested includes allowed, counting the top file. */
#define CONFIG_INCLUDE_DEPTH 8

typedef enum { OPT_STR, OPT_INT, OPT_U64, OPT_BOOL, OPT_LEVEL, OPT_SOFT, OPT_CHOICE } opt_type_t;

typedef struct {
    const char *name;
    opt_type_t type;
    size_t offset;
    long long min, max;
    const char *const *choices; /* OPT_CHOICE: the value is the index */
} opt_t;

#define OPT(n, t, f, lo, hi) { n, t, offsetof(config_t, f), lo, hi, NULL }
#define OPT_CHOICES(n, f, list) { n, OPT_CHOICE, offsetof(config_t, f), 0, 0, list }

static const char *const tls_auth_choices[] = { "default", "no", "yes", "optional", NULL };
static const char *const tls_version_choices[] = { "1.2", "1.3", NULL };

static const opt_t config_opts[] = {
    OPT("ring", OPT_STR, ring, 0, 0),
    OPT("listen", OPT_STR, listen, 0, 0),
    OPT("threads", OPT_INT, threads, 0, 1024),
    OPT("admin", OPT_STR, admin, 0, 0),
    OPT("pidfile", OPT_STR, pidfile, 0, 0),
    OPT("log-level", OPT_LEVEL, log_level, 0, 0),
    OPT("syslog", OPT_BOOL, syslog, 0, 1),
    OPT("connect-timeout-ms", OPT_INT, connect_timeout_ms, 1, 3600000),
    OPT("server-timeout-ms", OPT_INT, server_timeout_ms, 0, 86400000),
    OPT("backend-connections", OPT_INT, backend_connections, 1, 64),
    OPT("preconnect", OPT_BOOL, preconnect, 0, 1),
    OPT("reconnect-min-ms", OPT_INT, reconnect_min_ms, 1, 3600000),
    OPT("reconnect-max-ms", OPT_INT, reconnect_max_ms, 1, 3600000),
    OPT("client-idle-timeout", OPT_INT, client_idle_timeout, 0, 31536000),
    OPT("max-clients", OPT_INT, max_clients, 1, 10000000),
    OPT("max-request-bytes", OPT_U64, max_request_bytes, 1024, (long long)1 << 40),
    OPT("max-pipeline", OPT_INT, max_pipeline, 1, 1000000),
    OPT("max-dedicated-connections", OPT_INT, max_dedicated_connections, 0, 1000000),
    OPT("max-subscription-connections", OPT_INT, max_subscription_connections, 1, 10000000),
    OPT("client-output-limit-hard", OPT_U64, client_output_limit_hard, 0, (long long)1 << 40),
    OPT("client-output-limit-soft", OPT_SOFT, client_output_limit_soft, 0, (long long)1 << 40),
    OPT("hash-tags", OPT_BOOL, hash_tags, 0, 1),
    OPT("dirname-routing", OPT_BOOL, dirname_routing, 0, 1),
    OPT("requirepass", OPT_STR, requirepass, 0, 0),
    OPT("backend-password", OPT_STR, backend_password, 0, 0),
    OPT("admin-token", OPT_STR, admin_token, 0, 0),
    OPT("tls-port", OPT_INT, tls_port, 0, 65535),
    OPT("tls-cert-file", OPT_STR, tls_cert_file, 0, 0),
    OPT("tls-key-file", OPT_STR, tls_key_file, 0, 0),
    OPT("tls-ca-cert-file", OPT_STR, tls_ca_cert_file, 0, 0),
    OPT_CHOICES("tls-auth-clients", tls_auth_clients, tls_auth_choices),
    OPT_CHOICES("tls-min-version", tls_min_version, tls_version_choices),
    OPT("tls-ciphers", OPT_STR, tls_ciphers, 0, 0),
    OPT("tls-ciphersuites", OPT_STR, tls_ciphersuites, 0, 0),
    OPT("tls-handshake-timeout-ms", OPT_INT, tls_handshake_timeout_ms, 1, 3600000),
    OPT("backend-tls-ca-cert-file", OPT_STR, backend_tls_ca_cert_file, 0, 0),
    OPT("backend-tls-cert-file", OPT_STR, backend_tls_cert_file, 0, 0),
    OPT("backend-tls-key-file", OPT_STR, backend_tls_key_file, 0, 0),
    OPT("disable-commands", OPT_STR, disable_commands, 0, 0),
};

void config_init(config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->ring = strdup("/var/lib/ringproxy/ring");
    c->listen = strdup("127.0.0.1:6380");
    c->admin = strdup("127.0.0.1:6381");
    c->log_level = LOG_LEVEL_INFO;
    c->connect_timeout_ms = 1000;
    c->server_timeout_ms = 5000;
    c->backend_connections = 1;
    c->reconnect_min_ms = 100;
    c->reconnect_max_ms = 5000;
    c->max_clients = 10000;
    c->max_request_bytes = 64u << 20; /* = client-output-limit-hard: what SET takes, GET gives */
    c->max_pipeline = 1024;
    c->max_dedicated_connections = 1000;
    c->max_subscription_connections = 10000;
    c->client_output_limit_hard = 64u << 20;
    c->client_output_limit_soft.bytes = 16u << 20;
    c->client_output_limit_soft.seconds = 10;
    c->tls_handshake_timeout_ms = 10000;
}

void config_free(config_t *c)
{
    for (size_t i = 0; i < sizeof(config_opts) / sizeof(config_opts[0]); i++) {
        if (config_opts[i].type == OPT_STR) {
            char **p = (char **)((char *)c + config_opts[i].offset);
            free(*p);
            *p = NULL;
        }
    }
}

/* Copies s into out with control and non-ASCII bytes as \xHH, so that
 * what a file holds cannot garble a log line or a terminal. */
void config_escape(const char *s, char *out, size_t outlen)
{
    size_t n = 0;
    for (; *s != '\0' && n + 5 < outlen; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch >= 0x20 && ch < 0x7f && ch != '\\')
            out[n++] = (char)ch;
        else
            n += (size_t)snprintf(out + n, outlen - n, "\\x%02x", ch);
    }
    out[n] = '\0';
}

/* An integer, or for byte sizes one with redis.conf's units (memtoll):
 * k=1000 kb=1024 m=1000^2 mb=1024^2 g=1000^3 gb=1024^3. */
static int config_number(const char *value, int bytes, long long *out)
{
    static const struct { const char *unit; long long mul; } units[] = {
        { "", 1 }, { "b", 1 }, { "k", 1000 }, { "kb", 1024 }, { "m", 1000000 },
        { "mb", 1048576 }, { "g", 1000000000 }, { "gb", 1073741824 },
    };
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno != 0 || end == value)
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if ((bytes || i == 0) && strcasecmp(end, units[i].unit) == 0) {
            if (v < 0 && units[i].mul > 1)
                return -1;
            if (v > LLONG_MAX / units[i].mul)
                return -1;
            *out = v * units[i].mul;
            return 0;
        }
    }
    return -1;
}

static int config_int(const opt_t *o, const char *value, long long *out, char *err)
{
    long long v;
    char shown[128];
    if (config_number(value, o->type == OPT_U64, &v) < 0 || v < o->min || v > o->max) {
        config_escape(value, shown, sizeof(shown));
        snprintf(err, CONFIG_ERRLEN, "option %s: '%s' is not %s in [%lld, %lld]", o->name, shown,
                 o->type == OPT_U64 ? "a size (bytes, or with k kb m mb g gb)" : "an integer",
                 o->min, o->max);
        return -1;
    }
    *out = v;
    return 0;
}

int config_set(config_t *c, const char *name, const char *value, char *err)
{
    const opt_t *o = NULL;
    for (size_t i = 0; i < sizeof(config_opts) / sizeof(config_opts[0]); i++) {
        if (strcmp(config_opts[i].name, name) == 0) {
            o = &config_opts[i];
            break;
        }
    }
    char shown[128];
    config_escape(value, shown, sizeof(shown));
    if (o == NULL) {
        config_escape(name, shown, sizeof(shown));
        snprintf(err, CONFIG_ERRLEN, "unknown option '%s'", shown);
        return -1;
    }
    void *field = (char *)c + o->offset;
    long long v;
    switch (o->type) {
    case OPT_STR: {
        char *s = strdup(value);
        if (s == NULL) {
            snprintf(err, CONFIG_ERRLEN, "out of memory");
            return -1;
        }
        free(*(char **)field);
        *(char **)field = s;
        return 0;
    }
    case OPT_INT:
        if (config_int(o, value, &v, err) < 0)
            return -1;
        *(int *)field = (int)v;
        return 0;
    case OPT_U64:
        if (config_int(o, value, &v, err) < 0)
            return -1;
        *(uint64_t *)field = (uint64_t)v;
        return 0;
    case OPT_BOOL:
        if (strcasecmp(value, "yes") == 0 || strcmp(value, "1") == 0 || strcasecmp(value, "true") == 0) {
            *(int *)field = 1;
        } else if (strcasecmp(value, "no") == 0 || strcmp(value, "0") == 0 || strcasecmp(value, "false") == 0) {
            *(int *)field = 0;
        } else {
            snprintf(err, CONFIG_ERRLEN, "option %s: '%s' is not yes or no", name, shown);
            return -1;
        }
        return 0;
    case OPT_SOFT: {
        /* "BYTES SECONDS" */
        config_soft_limit_t *l = field;
        char bytes[64], *secs = NULL;
        const char *sp = strchr(value, ' ');
        long long b = -1;
        long s = -1;
        if (sp != NULL && (size_t)(sp - value) < sizeof(bytes)) {
            memcpy(bytes, value, (size_t)(sp - value));
            bytes[sp - value] = '\0';
            errno = 0;
            if (config_number(bytes, 1, &b) < 0)
                b = -1;
            while (*sp == ' ')
                sp++;
            s = *sp != '\0' ? strtol(sp, &secs, 10) : -1;
        }
        if (errno != 0 || s < 0 || s > 31536000 || *secs != '\0' || b < o->min || b > o->max) {
            snprintf(err, CONFIG_ERRLEN,
                     "option %s: '%s' is not BYTES SECONDS (bytes in [0, %lld], seconds in "
                     "[0, 31536000])", name, shown, o->max);
            return -1;
        }
        l->bytes = (uint64_t)b;
        l->seconds = (int)s;
        return 0;
    }
    case OPT_CHOICE:
        for (int i = 0; o->choices[i] != NULL; i++) {
            if (strcasecmp(value, o->choices[i]) == 0) {
                *(int *)field = i;
                return 0;
            }
        }
        snprintf(err, CONFIG_ERRLEN, "option %s: '%s' is not one of", name, shown);
        for (int i = 0; o->choices[i] != NULL; i++) {
            size_t used = strlen(err);
            snprintf(err + used, CONFIG_ERRLEN - used, " %s", o->choices[i]);
        }
        return -1;
    case OPT_LEVEL:
        if (log_level_parse(value, (log_level_t *)field) < 0) {
            snprintf(err, CONFIG_ERRLEN, "option %s: '%s' is not debug, info, warn or error",
                     name, shown);
            return -1;
        }
        return 0;
    }
    return -1;
}

static int config_hex(int ch)
{
    return isdigit(ch) ? ch - '0' : tolower(ch) - 'a' + 10;
}

/* Splits line into words by redis.conf's rules (sdssplitargs): words
 * are separated by blanks; "..." takes \n \r \t \b \a \xHH and \C for C;
 * '...' takes \' only; a closing quote must end the word. A word that
 * starts with # starts a comment. Words are written over line in place,
 * NUL-terminated, into words[]; returns their count or -1. */
static int config_split(char *line, char **words, int max, const char **why)
{
    char *r = line, *w;
    int n = 0;
    for (;;) {
        while (*r != '\0' && isspace((unsigned char)*r))
            r++;
        if (*r == '\0' || *r == '#')
            return n;
        if (n == max) {
            *why = "too many words";
            return -1;
        }
        words[n++] = w = r;
        char q = 0; /* the open quote, if any */
        for (;;) {
            char ch = *r;
            if (q == 0) {
                if (ch == '\0' || isspace((unsigned char)ch))
                    break;
                if (ch == '"' || ch == '\'')
                    q = ch;
                else
                    *w++ = ch;
                r++;
            } else if (ch == '\0') {
                *why = q == '"' ? "unbalanced double quotes" : "unbalanced single quotes";
                return -1;
            } else if (ch == q) {
                r++;
                if (*r != '\0' && !isspace((unsigned char)*r)) {
                    *why = "closing quote must be followed by a space";
                    return -1;
                }
                break;
            } else if (ch == '\\' && q == '\'' && r[1] == '\'') {
                *w++ = '\'';
                r += 2;
            } else if (ch == '\\' && q == '"' && r[1] == 'x' && isxdigit((unsigned char)r[2]) &&
                       isxdigit((unsigned char)r[3])) {
                *w++ = (char)(config_hex((unsigned char)r[2]) * 16 + config_hex((unsigned char)r[3]));
                r += 4;
            } else if (ch == '\\' && q == '"' && r[1] != '\0') {
                const char *from = "nrtab", *to = "\n\r\t\a\b";
                const char *e = strchr(from, r[1]);
                *w++ = e != NULL ? to[e - from] : r[1];
                r += 2;
            } else {
                *w++ = *r++;
            }
        }
        int end = *r == '\0';
        *w = '\0';
        if (end)
            return n;
        r++;
    }
}

/* The files being read, outermost first, to refuse include cycles. */
typedef struct config_stack {
    dev_t dev[CONFIG_INCLUDE_DEPTH];
    ino_t ino[CONFIG_INCLUDE_DEPTH];
    int depth;
} config_stack_t;

static int config_load_file(config_t *c, const char *path, config_stack_t *st, char *err);

/* include PATH: relative to the including file's directory. */
static int config_include(config_t *c, const char *from, const char *path, config_stack_t *st,
                          char *err)
{
    const char *slash = strrchr(from, '/');
    size_t dirlen = slash != NULL && path[0] != '/' ? (size_t)(slash - from) + 1 : 0;
    char *full = malloc(dirlen + strlen(path) + 1);
    if (full == NULL) {
        snprintf(err, CONFIG_ERRLEN, "out of memory");
        return -1;
    }
    memcpy(full, from, dirlen);
    strcpy(full + dirlen, path);
    int rc = config_load_file(c, full, st, err);
    free(full);
    return rc;
}

/* One line: "option value..." or "include PATH". */
static int config_line(config_t *c, const char *path, char *line, config_stack_t *st, char *err)
{
    char *words[8], value[CONFIG_ERRLEN];
    const char *why = NULL;
    int n = config_split(line, words, 8, &why);
    if (n < 0) {
        snprintf(err, CONFIG_ERRLEN, "%s", why);
        return -1;
    }
    if (n == 0)
        return 0;
    if (strcmp(words[0], "include") == 0) {
        if (n != 2) {
            snprintf(err, CONFIG_ERRLEN, "include takes one path");
            return -1;
        }
        return config_include(c, path, words[1], st, err);
    }
    /* The soft limit's words are one value, parsed as BYTES SECONDS;
     * every other option takes at most one (none sets it empty). */
    if (n > 2 && (strcmp(words[0], "client-output-limit-soft") == 0 ||
                  strcmp(words[0], "disable-commands") == 0)) {
        size_t used = 0;
        for (int i = 1; i < n; i++) {
            int m = snprintf(value + used, sizeof(value) - used, i > 1 ? " %s" : "%s", words[i]);
            if (m < 0 || (size_t)m >= sizeof(value) - used) {
                snprintf(err, CONFIG_ERRLEN, "option %s: value too long", words[0]);
                return -1;
            }
            used += (size_t)m;
        }
        return config_set(c, words[0], value, err);
    }
    if (n > 2) {
        char shown[128];
        config_escape(words[0], shown, sizeof(shown));
        snprintf(err, CONFIG_ERRLEN, "option %s takes one value, got %d", shown, n - 1);
        return -1;
    }
    return config_set(c, words[0], n == 2 ? words[1] : "", err);
}

static int config_load_file(config_t *c, const char *path, config_stack_t *st, char *err)
{
    char sub[CONFIG_ERRLEN], shown[128];
    struct stat sb;
    int lineno = 0, rc = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;

    config_escape(path, shown, sizeof(shown));
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, CONFIG_ERRLEN, "config %s: %s", shown, strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &sb) < 0 || S_ISDIR(sb.st_mode)) {
        snprintf(err, CONFIG_ERRLEN, "config %s: is a directory, not a file", shown);
        fclose(f);
        return -1;
    }
    for (int i = 0; i < st->depth; i++) {
        if (st->dev[i] == sb.st_dev && st->ino[i] == sb.st_ino) {
            snprintf(err, CONFIG_ERRLEN, "config %s: include cycle (the file includes itself)",
                     shown);
            fclose(f);
            return -1;
        }
    }
    if (st->depth == CONFIG_INCLUDE_DEPTH) {
        snprintf(err, CONFIG_ERRLEN, "config %s: includes nested deeper than %d", shown,
                 CONFIG_INCLUDE_DEPTH);
        fclose(f);
        return -1;
    }
    st->dev[st->depth] = sb.st_dev;
    st->ino[st->depth] = sb.st_ino;
    st->depth++;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len > CONFIG_LINE_MAX) {
            snprintf(err, CONFIG_ERRLEN, "config %s:%d: line longer than %d bytes", shown, lineno,
                     CONFIG_LINE_MAX);
            rc = -1;
        } else if (strlen(line) != (size_t)len) {
            snprintf(err, CONFIG_ERRLEN, "config %s:%d: NUL byte in the line", shown, lineno);
            rc = -1;
        } else if (config_line(c, path, line, st, sub) < 0) {
            /* An error from an included file names that file already. */
            if (strncmp(sub, "config ", 7) == 0)
                snprintf(err, CONFIG_ERRLEN, "%s", sub);
            else
                snprintf(err, CONFIG_ERRLEN, "config %.100s:%d: %.300s", shown, lineno, sub);
            rc = -1;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, CONFIG_ERRLEN, "config %s: %s", shown, strerror(errno));
        rc = -1;
    }
    st->depth--;
    free(line);
    fclose(f);
    return rc;
}

int config_load(config_t *c, const char *path, char *err)
{
    config_stack_t st;
    st.depth = 0;
    return config_load_file(c, path, &st, err);
}

int config_str_set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

int config_validate(const config_t *c, char *err)
{
    if (command_disable_list(c->disable_commands, 0, err, CONFIG_ERRLEN) < 0)
        return -1;
    if (c->ring == NULL || c->ring[0] == '\0') {
        snprintf(err, CONFIG_ERRLEN, "no ring directory: give -r DIR or 'ring' in the config");
        return -1;
    }
    if (c->listen == NULL || c->listen[0] == '\0') {
        snprintf(err, CONFIG_ERRLEN, "no listen address: give -l HOST:PORT");
        return -1;
    }
    if (c->tls_port > 0 && (!config_str_set(c->tls_cert_file) || !config_str_set(c->tls_key_file))) {
        snprintf(err, CONFIG_ERRLEN, "tls-port needs tls-cert-file and tls-key-file");
        return -1;
    }
    if ((c->tls_auth_clients == CONFIG_TLS_AUTH_YES || c->tls_auth_clients == CONFIG_TLS_AUTH_OPTIONAL) &&
        !config_str_set(c->tls_ca_cert_file)) {
        snprintf(err, CONFIG_ERRLEN, "tls-auth-clients needs tls-ca-cert-file");
        return -1;
    }
    if (config_str_set(c->backend_tls_cert_file) != config_str_set(c->backend_tls_key_file)) {
        snprintf(err, CONFIG_ERRLEN, "backend-tls-cert-file and backend-tls-key-file go together");
        return -1;
    }
    if (c->reconnect_min_ms > c->reconnect_max_ms) {
        snprintf(err, CONFIG_ERRLEN, "reconnect-min-ms (%d) is above reconnect-max-ms (%d)",
                 c->reconnect_min_ms, c->reconnect_max_ms);
        return -1;
    }
    return 0;
}
