/*
 * config.c - the options table drives both the file parser and the
 * command-line overrides, so every option has one name and one parser.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

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
    c->max_request_bytes = 536870912;
    c->max_pipeline = 1024;
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

static int config_int(const opt_t *o, const char *value, long long *out, char *err)
{
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < o->min || v > o->max) {
        snprintf(err, CONFIG_ERRLEN, "option %s: '%s' is not an integer in [%lld, %lld]",
                 o->name, value, o->min, o->max);
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
    if (o == NULL) {
        snprintf(err, CONFIG_ERRLEN, "unknown option '%s'", name);
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
            snprintf(err, CONFIG_ERRLEN, "option %s: '%s' is not yes or no", name, value);
            return -1;
        }
        return 0;
    case OPT_SOFT: {
        /* "BYTES SECONDS" */
        config_soft_limit_t *l = field;
        char *end, *secs = NULL;
        errno = 0;
        long long b = strtoll(value, &end, 10);
        long s = errno == 0 && end != value && isspace((unsigned char)*end)
                     ? strtol(end, &secs, 10) : -1;
        if (errno != 0 || s < 0 || s > 31536000 || *secs != '\0' || b < o->min || b > o->max) {
            snprintf(err, CONFIG_ERRLEN,
                     "option %s: '%s' is not BYTES SECONDS (bytes in [0, %lld], seconds in "
                     "[0, 31536000])", name, value, o->max);
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
        snprintf(err, CONFIG_ERRLEN, "option %s: '%s' is not one of", name, value);
        for (int i = 0; o->choices[i] != NULL; i++) {
            size_t used = strlen(err);
            snprintf(err + used, CONFIG_ERRLEN - used, " %s", o->choices[i]);
        }
        return -1;
    case OPT_LEVEL:
        if (log_level_parse(value, (log_level_t *)field) < 0) {
            snprintf(err, CONFIG_ERRLEN, "option %s: '%s' is not debug, info, warn or error",
                     name, value);
            return -1;
        }
        return 0;
    }
    return -1;
}

static char *config_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int config_load(config_t *c, const char *path, char *err)
{
    char line[4096], sub[CONFIG_ERRLEN];
    int lineno = 0, rc = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, CONFIG_ERRLEN, "config %s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        char *s = config_trim(line);
        if (*s == '\0')
            continue;
        char *name = s;
        while (*s != '\0' && !isspace((unsigned char)*s))
            s++;
        if (*s != '\0')
            *s++ = '\0';
        if (config_set(c, name, config_trim(s), sub) < 0) {
            snprintf(err, CONFIG_ERRLEN, "config %.60s:%d: %.400s", path, lineno, sub);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

int config_str_set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

int config_validate(const config_t *c, char *err)
{
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
