/*
 * config.h - ringproxy's options: defaults, the config file
 * (etc/ringproxy.conf documents every option) and validation.
 */
#ifndef RP_CONFIG_H
#define RP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define CONFIG_ERRLEN 512

/* An output limit held for a while: bytes above which a client may stay
 * at most seconds. */
typedef struct config_soft_limit {
    uint64_t bytes;            /* 0 = none */
    int seconds;
} config_soft_limit_t;

/* tls-auth-clients */
enum { CONFIG_TLS_AUTH_DEFAULT = 0, CONFIG_TLS_AUTH_NO, CONFIG_TLS_AUTH_YES, CONFIG_TLS_AUTH_OPTIONAL };
/* tls-min-version */
enum { CONFIG_TLS_1_2 = 0, CONFIG_TLS_1_3 };

typedef struct config {
    char *ring;
    char *listen;
    int threads;               /* 0 = number of cores */
    char *admin;               /* NULL or "" = off */
    char *pidfile;             /* NULL or "" = none */
    log_level_t log_level;
    int syslog;
    int connect_timeout_ms;
    int server_timeout_ms;     /* 0 = none */
    int backend_connections;
    int preconnect;
    int reconnect_min_ms;
    int reconnect_max_ms;
    int client_idle_timeout;   /* seconds, 0 = none */
    int max_clients;
    uint64_t max_request_bytes;
    int max_pipeline;
    int max_dedicated_connections; /* over all workers (pinned.c) */
    int max_subscription_connections; /* pub/sub connections to pnodes, in all */
    uint64_t client_output_limit_hard;          /* bytes, 0 = none */
    config_soft_limit_t client_output_limit_soft;
    int hash_tags;
    int dirname_routing;
    char *requirepass;         /* NULL or "" = clients need no AUTH */
    char *backend_password;    /* NULL or "" = pnodes get no AUTH */
    char *admin_token;         /* NULL or "" = admin needs no token */
    int tls_port;              /* 0 = no TLS listener */
    char *tls_cert_file;
    char *tls_key_file;
    char *tls_ca_cert_file;    /* CA for client certificates */
    int tls_auth_clients;      /* CONFIG_TLS_AUTH_*; default: yes with a CA */
    int tls_min_version;       /* CONFIG_TLS_1_* */
    char *tls_ciphers;         /* TLS 1.2, OpenSSL cipher list */
    char *tls_ciphersuites;    /* TLS 1.3 */
    int tls_handshake_timeout_ms;
    char *backend_tls_ca_cert_file; /* NULL = the system's CAs */
    char *backend_tls_cert_file;    /* client certificate for tls:// pnodes */
    char *backend_tls_key_file;
    char *disable_commands;    /* NULL or "" = none; names, space-separated */
} config_t;

/* Options marked (reload) in etc/ringproxy.conf change while workers run:
 * read them with CONFIG_GET; reload.c stores them atomically. */
#define CONFIG_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

void config_init(config_t *c);
void config_free(config_t *c);
/* Sets one option by its config-file name from its text value. */
int config_set(config_t *c, const char *name, const char *value, char *err);
/* Reads "option value" lines from path, split as redis.conf's are
 * (quotes, escapes), with "include PATH" relative to the including file. */
int config_load(config_t *c, const char *path, char *err);
/* Copies s into out (outlen bytes, truncated) with control and non-ASCII
 * bytes and backslashes written as \xHH, for error and log lines. */
void config_escape(const char *s, char *out, size_t outlen);
/* 1 when a string option is set: NULL and "" both mean unset. */
int config_str_set(const char *s);
/* Checks cross-option constraints once everything is set. */
int config_validate(const config_t *c, char *err);

#endif
