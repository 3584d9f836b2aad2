/*
 * tls.h - the proxy's TLS contexts: one that serves clients on tls-port and
 * one that connects to tls:// pnodes. Both are rebuilt from the files on
 * every reload, so certificates rotate with a SIGHUP; connections already
 * open keep the context they started with (each SSL holds a reference).
 */
#ifndef RP_TLS_H
#define RP_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "config.h"

typedef struct tls tls_t;

/* Builds both contexts from cfg; NULL with err set when a file is missing
 * or unusable. The server context exists only when tls-port is set. */
tls_t *tls_new(const config_t *cfg, char *err, size_t errlen);
void tls_free(tls_t *t);
/* Builds new contexts from cfg and swaps them in; on failure the old ones
 * stay and err says why. */
int tls_reload(tls_t *t, const config_t *cfg, char *err, size_t errlen);
/* An SSL for an accepted client (NULL on error). Any thread. */
SSL *tls_accept_ssl(tls_t *t);
/* The peer's certificate must be valid for host: an IP address, or a DNS
 * name (also sent as SNI). 0 or -1. */
int tls_peer_name(SSL *ssl, const char *host);
/* An SSL for a connection to a pnode: the certificate must be valid for
 * host (a DNS name, sent as SNI, or an IP address). NULL with err set. */
SSL *tls_connect_ssl(tls_t *t, const char *host, char *err, size_t errlen);
/* Why the last TLS operation on this thread failed: the OpenSSL error queue
 * (emptied), or, if ssl's peer certificate was refused, the reason. */
void tls_error_string(SSL *ssl, unsigned long first, char *buf, size_t len);

#endif
