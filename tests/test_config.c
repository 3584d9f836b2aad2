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
#include <fcntl.h>
#include <sys/stat.h>
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
    load_text("client-output-limit-soft 1mb 5\n", 0, NULL);
    load_text("client-output-limit-soft 1xb 5\n", -1, "is not BYTES SECONDS");
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

/* Writes len bytes of text to dir/name (dir NULL: a new temp file);
 * returns the malloc'd path. */
static char *write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char *path = malloc(4096);
    int fd;
    assert_non_null(path);
    if (dir == NULL) {
        strcpy(path, "/tmp/rp-config-XXXXXX");
        fd = mkstemp(path);
    } else {
        snprintf(path, 4096, "%s/%s", dir, name);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

/* Loads len bytes of text into c (config_init'ed by the caller). */
static int load_bytes(config_t *c, const char *text, size_t len, char *err)
{
    char *path = write_file(NULL, NULL, text, len);
    int rc = config_load(c, path, err);
    unlink(path);
    free(path);
    return rc;
}

static void t_quotes_and_escapes(void **state)
{
    static const struct { const char *line, *want; } ok[] = {
        { "requirepass \"pw\"\n", "pw" },
        { "requirepass 'pw'\n", "pw" },
        { "requirepass pw\n", "pw" },
        { "requirepass \"a b\"\n", "a b" },
        { "requirepass \"\\x41\\x62\\n\\t\\\"q\\\\\"\n", "Ab\n\t\"q\\" },
        { "requirepass 'it\\'s'\n", "it's" },
        { "requirepass 'no\\nescape'\n", "no\\nescape" },
        { "requirepass a#b   # a comment\n", "a#b" },
        { "requirepass \"# not a comment\"\n", "# not a comment" },
        { "requirepass \"\"\n", "" },
        { "requirepass\n", "" },
    };
    static const struct { const char *line, *why; } bad[] = {
        { "requirepass \"pw\n", ":1: unbalanced double quotes" },
        { "requirepass 'pw\n", ":1: unbalanced single quotes" },
        { "requirepass \"pw\"x\n", ":1: closing quote must be followed by a space" },
        { "requirepass a b\n", ":1: option requirepass takes one value, got 2" },
    };
    char err[CONFIG_ERRLEN];
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        config_t c;
        config_init(&c);
        assert_int_equal(load_bytes(&c, ok[i].line, strlen(ok[i].line), err), 0);
        assert_string_equal(c.requirepass, ok[i].want);
        config_free(&c);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        config_t c;
        config_init(&c);
        assert_int_equal(load_bytes(&c, bad[i].line, strlen(bad[i].line), err), -1);
        assert_non_null(strstr(err, bad[i].why));
        config_free(&c);
    }
}

static void t_size_units(void **state)
{
    static const struct { const char *value; uint64_t want; } ok[] = {
        { "2048", 2048 }, { "512k", 512000 }, { "512kb", 524288 }, { "64m", 64000000 },
        { "64mb", 67108864 }, { "1g", 1000000000 }, { "1gb", 1073741824 }, { "64MB", 67108864 },
        { "4096b", 4096 },
    };
    char err[CONFIG_ERRLEN];
    config_t c;
    config_init(&c);
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(config_set(&c, "max-request-bytes", ok[i].value, err), 0);
        assert_int_equal(c.max_request_bytes, ok[i].want);
        assert_int_equal(config_set(&c, "client-output-limit-hard", ok[i].value, err), 0);
        assert_int_equal(c.client_output_limit_hard, ok[i].want);
    }
    assert_int_equal(config_set(&c, "client-output-limit-soft", "1mb 5", err), 0);
    assert_int_equal(c.client_output_limit_soft.bytes, 1048576);
    assert_int_equal(c.client_output_limit_soft.seconds, 5);
    const char *bad[] = { "64 mb", "64xb", "-1k", "mb", "99999999999gb" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(config_set(&c, "max-request-bytes", bad[i], err), -1);
    /* Units are for sizes only. */
    assert_int_equal(config_set(&c, "max-clients", "10k", err), -1);
    config_free(&c);
}

static void t_long_lines_nul_and_directories(void **state)
{
    char err[CONFIG_ERRLEN];
    config_t c;
    size_t n = 10000;
    char *text = malloc(n + 64);
    assert_non_null(text);
    /* A long comment is one line: its tail is not an option. */
    memset(text, 'x', n);
    text[0] = '#';
    strcpy(text + n - 20, " max-pipeline 9\nthreads 3\n");
    config_init(&c);
    assert_int_equal(load_bytes(&c, text, strlen(text), err), 0);
    assert_int_equal(c.threads, 3);
    assert_int_equal(c.max_pipeline, 1024);
    config_free(&c);
    free(text);

    /* Over 1 MiB: an error naming the line. */
    n = (1 << 20) + 10;
    text = malloc(n + 32);
    assert_non_null(text);
    strcpy(text, "threads 2\n");
    memset(text + 10, '#', n - 10);
    strcpy(text + n, "\n");
    config_init(&c);
    assert_int_equal(load_bytes(&c, text, strlen(text), err), -1);
    assert_non_null(strstr(err, ":2: line longer than 1048576 bytes"));
    config_free(&c);
    free(text);

    static const char nul[] = "threads 2\nrequirepass pw\0 threads 9\n";
    config_init(&c);
    assert_int_equal(load_bytes(&c, nul, sizeof(nul) - 1, err), -1);
    assert_non_null(strstr(err, ":2: NUL byte in the line"));
    config_free(&c);

    config_init(&c);
    assert_int_equal(config_load(&c, "/tmp", err), -1);
    assert_non_null(strstr(err, "config /tmp: is a directory"));
    config_free(&c);
}

static void t_garbage_is_escaped(void **state)
{
    static const char text[] = "th\x1b[31mreads 2\n";
    char err[CONFIG_ERRLEN];
    config_t c;
    config_init(&c);
    assert_int_equal(load_bytes(&c, text, sizeof(text) - 1, err), -1);
    assert_non_null(strstr(err, "unknown option 'th\\x1b[31mreads'"));
    assert_null(strchr(err, '\x1b'));
    assert_int_equal(config_set(&c, "threads", "\x7f\xff", err), -1);
    assert_non_null(strstr(err, "'\\x7f\\xff'"));
    config_free(&c);
}

static void load_error(const char *path, const char *want)
{
    char err[CONFIG_ERRLEN];
    config_t c;
    config_init(&c);
    assert_int_equal(config_load(&c, path, err), -1);
    assert_non_null(strstr(err, want));
    config_free(&c);
}

static void t_include(void **state)
{
    char err[CONFIG_ERRLEN], tmpl[] = "/tmp/rp-include-XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    char sub[4200];
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    /* Relative to the including file: sub/b.conf includes c.conf in sub/. */
    char *a = write_file(dir, "a.conf", "threads 2\ninclude sub/b.conf\nmax-pipeline 5\n", 44);
    char *b = write_file(sub, "b.conf", "threads 3\ninclude c.conf\n", 25);
    char *cc = write_file(sub, "c.conf", "requirepass \"from c\"\n", 21);
    config_t c;
    config_init(&c);
    assert_int_equal(config_load(&c, a, err), 0);
    assert_int_equal(c.threads, 3);
    assert_int_equal(c.max_pipeline, 5);
    assert_string_equal(c.requirepass, "from c");
    config_free(&c);

    /* A cycle is refused, naming the file. */
    free(write_file(sub, "c.conf", "include ../a.conf\n", 18));
    load_error(a, "include cycle");

    /* A file including itself under another spelling of its path too. */
    char link[4200];
    snprintf(link, sizeof(link), "%s/self.conf", dir);
    free(write_file(dir, "self.conf", "include ./self.conf\n", 20));
    load_error(link, "include cycle");

    /* An error in an included file names that file and line. */
    free(write_file(sub, "c.conf", "threads 1\nbogus 1\n", 18));
    load_error(a, "sub/c.conf:2: unknown option 'bogus'");

    free(write_file(sub, "c.conf", "include\n", 8));
    load_error(a, "include takes one path");

    unlink(a);
    unlink(b);
    unlink(cc);
    unlink(link);
    rmdir(sub);
    rmdir(dir);
    free(a);
    free(b);
    free(cc);
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
        cmocka_unit_test(t_quotes_and_escapes),
        cmocka_unit_test(t_size_units),
        cmocka_unit_test(t_long_lines_nul_and_directories),
        cmocka_unit_test(t_garbage_is_escaped),
        cmocka_unit_test(t_include),
        cmocka_unit_test(t_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
