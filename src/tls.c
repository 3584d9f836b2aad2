/*
 * tls.c - see tls.h. The contexts sit behind a mutex taken only to create
 * an SSL (once per accepted client or pnode connection, next to a
 * handshake that costs far more) and to swap them on reload.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls.h"

struct tls {
    pthread_mutex_t lock;
    SSL_CTX *server; /* NULL: no tls-port */
    SSL_CTX *client;
};

/* The reason of the oldest queued error, the queue emptied. */
static void tls_queue_error(char *buf, size_t len, const char *what)
{
    unsigned long e = ERR_get_error();
    const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;
    if (r != NULL)
        snprintf(buf, len, "%s: %s", what, r);
    else
        snprintf(buf, len, "%s", what);
    ERR_clear_error();
}

static int tls_common(SSL_CTX *ctx, const config_t *cfg, char *err, size_t errlen)
{
    int min = cfg->tls_min_version == CONFIG_TLS_1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
    SSL_CTX_set_min_proto_version(ctx, min);
    /* Renegotiation lets a peer make the proxy redo handshakes at will. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    /* Idle connections drop their 32 KB of record buffers. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (cfg->tls_ciphers != NULL && cfg->tls_ciphers[0] != '\0' &&
        SSL_CTX_set_cipher_list(ctx, cfg->tls_ciphers) != 1) {
        tls_queue_error(err, errlen, "tls-ciphers: no usable cipher");
        return -1;
    }
    if (cfg->tls_ciphersuites != NULL && cfg->tls_ciphersuites[0] != '\0' &&
        SSL_CTX_set_ciphersuites(ctx, cfg->tls_ciphersuites) != 1) {
        tls_queue_error(err, errlen, "tls-ciphersuites: no usable cipher suite");
        return -1;
    }
    return 0;
}

static int tls_cert(SSL_CTX *ctx, const char *opt, const char *cert, const char *key, char *err,
                    size_t errlen)
{
    char what[600];
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        snprintf(what, sizeof(what), "%s-cert-file %s: cannot load the certificate", opt, cert);
        tls_queue_error(err, errlen, what);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        snprintf(what, sizeof(what), "%s-key-file %s: cannot load the private key", opt, key);
        tls_queue_error(err, errlen, what);
        return -1;
    }
    return 0;
}

static int tls_ca(SSL_CTX *ctx, const char *opt, const char *ca, char *err, size_t errlen)
{
    char what[600];
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        snprintf(what, sizeof(what), "%s %s: cannot load the CA certificates", opt, ca);
        tls_queue_error(err, errlen, what);
        return -1;
    }
    return 0;
}

static SSL_CTX *tls_server_ctx(const config_t *cfg, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        tls_queue_error(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    if (tls_common(ctx, cfg, err, errlen) < 0 ||
        tls_cert(ctx, "tls", cfg->tls_cert_file, cfg->tls_key_file, err, errlen) < 0)
        goto fail;
    /* Resumed sessions of verified clients need a context id. */
    static const unsigned char sid[] = "ringproxy";
    SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
    int auth = cfg->tls_auth_clients;
    if (auth == CONFIG_TLS_AUTH_DEFAULT)
        auth = config_str_set(cfg->tls_ca_cert_file) ? CONFIG_TLS_AUTH_YES : CONFIG_TLS_AUTH_NO;
    if (auth != CONFIG_TLS_AUTH_NO) {
        if (tls_ca(ctx, "tls-ca-cert-file", cfg->tls_ca_cert_file, err, errlen) < 0)
            goto fail;
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->tls_ca_cert_file);
        if (names != NULL)
            SSL_CTX_set_client_CA_list(ctx, names);
        int mode = SSL_VERIFY_PEER;
        if (auth == CONFIG_TLS_AUTH_YES)
            mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        SSL_CTX_set_verify(ctx, mode, NULL);
    }
    ERR_clear_error();
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static SSL_CTX *tls_client_ctx(const config_t *cfg, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        tls_queue_error(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    if (tls_common(ctx, cfg, err, errlen) < 0)
        goto fail;
    if (config_str_set(cfg->backend_tls_ca_cert_file)) {
        if (tls_ca(ctx, "backend-tls-ca-cert-file", cfg->backend_tls_ca_cert_file, err, errlen) < 0)
            goto fail;
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        tls_queue_error(err, errlen, "cannot load the system's CA certificates");
        goto fail;
    }
    if (config_str_set(cfg->backend_tls_cert_file) &&
        tls_cert(ctx, "backend-tls", cfg->backend_tls_cert_file, cfg->backend_tls_key_file, err,
                 errlen) < 0)
        goto fail;
    /* A pnode whose certificate does not check out is never used. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    ERR_clear_error();
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static int tls_build(const config_t *cfg, SSL_CTX **server, SSL_CTX **client, char *err,
                     size_t errlen)
{
    *server = NULL;
    if (cfg->tls_port > 0 && (*server = tls_server_ctx(cfg, err, errlen)) == NULL)
        return -1;
    *client = tls_client_ctx(cfg, err, errlen);
    if (*client == NULL) {
        SSL_CTX_free(*server);
        return -1;
    }
    return 0;
}

tls_t *tls_new(const config_t *cfg, char *err, size_t errlen)
{
    tls_t *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (tls_build(cfg, &t->server, &t->client, err, errlen) < 0) {
        free(t);
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

void tls_free(tls_t *t)
{
    if (t == NULL)
        return;
    SSL_CTX_free(t->server);
    SSL_CTX_free(t->client);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

int tls_reload(tls_t *t, const config_t *cfg, char *err, size_t errlen)
{
    SSL_CTX *server, *client;
    if (tls_build(cfg, &server, &client, err, errlen) < 0)
        return -1;
    pthread_mutex_lock(&t->lock);
    SSL_CTX *old_server = t->server, *old_client = t->client;
    t->server = server;
    t->client = client;
    pthread_mutex_unlock(&t->lock);
    SSL_CTX_free(old_server);
    SSL_CTX_free(old_client);
    return 0;
}

SSL *tls_accept_ssl(tls_t *t)
{
    pthread_mutex_lock(&t->lock);
    SSL *ssl = t->server != NULL ? SSL_new(t->server) : NULL;
    pthread_mutex_unlock(&t->lock);
    return ssl;
}

int tls_peer_name(SSL *ssl, const char *host)
{
    unsigned char ip[16];
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    /* No partial wildcards (foo*.example.com): RFC 6125 section 7.2. */
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1)
        return X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1 ? 0 : -1;
    return X509_VERIFY_PARAM_set1_host(param, host, 0) == 1 &&
                   SSL_set_tlsext_host_name(ssl, host) == 1 ? 0 : -1;
}

SSL *tls_connect_ssl(tls_t *t, const char *host, char *err, size_t errlen)
{
    pthread_mutex_lock(&t->lock);
    SSL *ssl = SSL_new(t->client);
    pthread_mutex_unlock(&t->lock);
    if (ssl == NULL) {
        tls_queue_error(err, errlen, "cannot create a TLS connection");
        return NULL;
    }
    if (tls_peer_name(ssl, host) < 0) {
        tls_queue_error(err, errlen, "cannot set the name to verify");
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

void tls_error_string(SSL *ssl, unsigned long first, char *buf, size_t len)
{
    long v = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (v != X509_V_OK) {
        snprintf(buf, len, "TLS certificate verify failed: %s", X509_verify_cert_error_string(v));
        ERR_clear_error();
        return;
    }
    if (first == 0)
        first = ERR_peek_error();
    const char *r = first != 0 ? ERR_reason_error_string(first) : NULL;
    snprintf(buf, len, "TLS error: %s", r != NULL ? r : "handshake failed");
    ERR_clear_error();
}
