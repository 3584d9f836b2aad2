/*
 * test_config.c - the config module: every option of etc/ringproxy.conf is
 * known and its value there is the built-in default; bad values, unknown
 * options and cross-option constraints are refused with the line named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static void t_sample_is_the_defaults(void **state)
{
    const char *top = getenv("top_srcdir");
    char path[1024], err[CONFIG_ERRLEN];
    config_t def, file;

    snprintf(path, sizeof(path), "%s/etc/ringproxy.conf", top ? top : ".");
    config_init(&def);
    config_init(&file);
    /* Start the file's copy from other values so that loading must set them. */
    assert_int_equal(config_set(&file, "threads", "7", err), 0);
    assert_int_equal(config_set(&file, "max-pipeline", "3", err), 0);
    assert_int_equal(config_set(&file, "hash-tags", "yes", err), 0);
    assert_int_equal(config_set(&file, "log-level", "debug", err), 0);
    assert_int_equal(config_set(&file, "client-output-limit-hard", "5", err), 0);
    assert_int_equal(config_set(&file, "client-output-limit-soft", "6 7", err), 0);
    assert_int_equal(config_set(&file, "tls-port", "6390", err), 0);
    assert_int_equal(config_set(&file, "tls-auth-clients", "optional", err), 0);
    assert_int_equal(config_set(&file, "tls-min-version", "1.3", err), 0);
    assert_int_equal(config_set(&file, "tls-handshake-timeout-ms", "5", err), 0);
    assert_int_equal(config_load(&file, path, err), 0);
    assert_string_equal(file.ring, def.ring);
    assert_string_equal(file.listen, def.listen);
    assert_string_equal(file.admin, def.admin);
    assert_string_equal(file.pidfile, "");
    assert_int_equal(file.threads, def.threads);
    assert_int_equal(file.log_level, def.log_level);
    assert_int_equal(file.syslog, def.syslog);
    assert_int_equal(file.connect_timeout_ms, def.connect_timeout_ms);
    assert_int_equal(file.server_timeout_ms, def.server_timeout_ms);
    assert_int_equal(file.backend_connections, def.backend_connections);
    assert_int_equal(file.preconnect, def.preconnect);
    assert_int_equal(file.reconnect_min_ms, def.reconnect_min_ms);
    assert_int_equal(file.reconnect_max_ms, def.reconnect_max_ms);
    assert_int_equal(file.client_idle_timeout, def.client_idle_timeout);
    assert_int_equal(file.max_clients, def.max_clients);
    assert_int_equal(file.max_request_bytes, def.max_request_bytes);
    assert_int_equal(file.max_pipeline, def.max_pipeline);
    assert_int_equal(file.client_output_limit_hard, def.client_output_limit_hard);
    assert_int_equal(file.client_output_limit_soft.bytes, def.client_output_limit_soft.bytes);
    assert_int_equal(file.client_output_limit_soft.seconds, def.client_output_limit_soft.seconds);
    assert_int_equal(file.hash_tags, def.hash_tags);
    assert_int_equal(file.dirname_routing, def.dirname_routing);
    assert_string_equal(file.requirepass, "");
    assert_string_equal(file.backend_password, "");
    assert_string_equal(file.admin_token, "");
    assert_int_equal(file.tls_port, def.tls_port);
    assert_int_equal(file.tls_auth_clients, def.tls_auth_clients);
    assert_int_equal(file.tls_min_version, def.tls_min_version);
    assert_int_equal(file.tls_handshake_timeout_ms, def.tls_handshake_timeout_ms);
    const char *empty[] = { file.tls_cert_file, file.tls_key_file, file.tls_ca_cert_file,
                            file.tls_ciphers, file.tls_ciphersuites, file.backend_tls_ca_cert_file,
                            file.backend_tls_cert_file, file.backend_tls_key_file };
    for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++)
        assert_string_equal(empty[i], "");
    assert_int_equal(config_validate(&file, err), 0);
    config_free(&def);
    config_free(&file);
}

static void load_text(const char *text, int want, const char *want_err)
{
    char path[] = "/tmp/rp-config-XXXXXX", err[CONFIG_ERRLEN];
    config_t c;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    config_init(&c);
    int rc = config_load(&c, path, err);
    if (rc == 0)
        rc = config_validate(&c, err);
    unlink(path);
    assert_int_equal(rc, want);
    if (want_err != NULL)
        assert_non_null(strstr(err, want_err));
    config_free(&c);
}

static void t_file_syntax(void **state)
{
    load_text("# comment\n\n  threads 4   # trailing\nhash-tags yes\n", 0, NULL);
    load_text("threads 4\nbogus 1\n", -1, ":2: unknown option 'bogus'");
    load_text("threads -1\n", -1, ":1: option threads:");
    load_text("threads 4x\n", -1, "not an integer");
    load_text("max-clients 0\n", -1, "max-clients");
    load_text("hash-tags maybe\n", -1, "not yes or no");
    load_text("log-level loud\n", -1, "not debug, info, warn or error");
    load_text("reconnect-min-ms 500\nreconnect-max-ms 100\n", -1, "reconnect-min-ms");
    load_text("ring\n", -1, "no ring directory");
    load_text("client-output-limit-soft 1048576   5\n", 0, NULL);
    load_text("client-output-limit-soft 0 0\nclient-output-limit-hard 0\n", 0, NULL);
    load_text("client-output-limit-soft 1048576\n", -1, "is not BYTES SECONDS");
    load_text("client-output-limit-soft 1048576 5 6\n", -1, "is not BYTES SECONDS");
    load_text("client-output-limit-soft 1048576 -5\n", -1, "is not BYTES SECONDS");
    load_text("client-output-limit-soft 1mb 5\n", -1, "is not BYTES SECONDS");
    load_text("client-output-limit-hard -1\n", -1, "client-output-limit-hard");
    load_text("tls-min-version 1.3\ntls-auth-clients NO\n", 0, NULL);
    load_text("tls-min-version 1.0\n", -1, "option tls-min-version: '1.0' is not one of 1.2 1.3");
    load_text("tls-auth-clients sometimes\n", -1, "is not one of default no yes optional");
    load_text("tls-port 70000\n", -1, "option tls-port:");
    load_text("tls-port 6390\ntls-cert-file /c.pem\n", -1, "tls-port needs tls-cert-file and tls-key-file");
    load_text("tls-port 6390\ntls-cert-file /c.pem\ntls-key-file /k.pem\n", 0, NULL);
    load_text("tls-auth-clients optional\n", -1, "tls-auth-clients needs tls-ca-cert-file");
    load_text("backend-tls-key-file /k.pem\n", -1, "go together");
}

static void t_missing_file(void **state)
{
    config_t c;
    char err[CONFIG_ERRLEN];
    config_init(&c);
    assert_int_equal(config_load(&c, "/nonexistent/ringproxy.conf", err), -1);
    assert_non_null(strstr(err, "/nonexistent/ringproxy.conf"));
    config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_sample_is_the_defaults),
        cmocka_unit_test(t_file_syntax),
        cmocka_unit_test(t_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
