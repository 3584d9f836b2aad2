/*
 * ringbench.c - a Redis load generator that measures latency and, with
 * --verify, proves that no acknowledged write was lost. This file reads
 * the arguments and prints the report; ringbench_run.c runs the load.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auto-config.h"
#include "json.h"
#include "keyspace.h"
#include "ringbench.h"

#define RB_MAX_CONNS 10000u
#define RB_MAX_PIPELINE 10000u
#define RB_MAX_VALUE (16u * 1024 * 1024)

enum {
    OPT_DURATION = 256,
    OPT_RATE,
    OPT_DIST,
    OPT_RATIO,
    OPT_TLS,
    OPT_TLS_CA,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_AUTH,
    OPT_JSON,
    OPT_VERIFY,
    OPT_VERIFY_EVERY,
    OPT_PER_PNODE,
    OPT_KEEP_STATE,
    OPT_CHECK_ONLY,
    OPT_SEED,
    OPT_HELP,
    OPT_VERSION,
};

static const char usage_text[] =
    "usage: ringbench [-h HOST] [-p PORT] [-c CONNS] [-P PIPELINE]\n"
    "                 [-n REQUESTS | --duration S] [--rate R] [-r KEYSPACE]\n"
    "                 [--dist uniform|zipf:S] [--ratio SET:GET] [-d VALUE_BYTES]\n"
    "                 [--tls] [--tls-ca FILE] [--tls-cert FILE --tls-key FILE]\n"
    "                 [--auth PASS] [--json] [--verify] [--verify-every S]\n"
    "                 [--keep-state FILE] [--check-only FILE] [--per-pnode RINGDIR]\n"
    "                 [--seed N] [--help] [--version]\n"
    "\n"
    "Sends GET and SET requests to one Redis-protocol server (a redis-server or\n"
    "ringproxy) and reports throughput, latency percentiles and errors.\n"
    "\n"
    "  -h HOST            server to load (default 127.0.0.1); nothing else is contacted\n"
    "  -p PORT            its port (default 6379)\n"
    "  -c CONNS           connections (default 50)\n"
    "  -P PIPELINE        requests in flight per connection (default 1)\n"
    "  -n REQUESTS        stop after this many requests (default 100000)\n"
    "  --duration S       stop after S seconds instead (at most 86400)\n"
    "  --rate R           pace to R requests per second over all connections\n"
    "  -r KEYSPACE        number of keys, named rb:0 .. rb:KEYSPACE-1 (default 10000)\n"
    "  --dist D           key choice: uniform (default) or zipf:S, rb:0 the hottest\n"
    "  --ratio SET:GET    mix of writes and reads (default 1:10)\n"
    "  -d VALUE_BYTES     value size (default 32; --verify values are at least\n"
    "                     as long as \"KEY|SEQ|\")\n"
    "  --tls              connect with TLS; the server's certificate is NOT verified\n"
    "                     unless --tls-ca is given\n"
    "  --tls-ca FILE      TLS, and the server's certificate must chain to this CA\n"
    "                     bundle and name HOST\n"
    "  --tls-cert FILE    TLS with this client certificate (PEM), for servers that\n"
    "  --tls-key FILE     ask for one (both needed)\n"
    "  --auth PASS        send AUTH PASS first on each connection\n"
    "  --json             print the report as one JSON object on stdout\n"
    "  --verify           tag every write with its key and sequence number, check\n"
    "                     every read against the writes acknowledged before it, and\n"
    "                     read every written key back at the end: reports lost\n"
    "                     writes and unexpected values. Writes refused with READONLY\n"
    "                     are retried after 50 ms and are not lost.\n"
    "  --verify-every S   also read every written key back each S seconds\n"
    "  --keep-state FILE  with --verify: save what was acknowledged to FILE\n"
    "  --check-only FILE  send no load: read back the keys FILE lists and check them\n"
    "  --per-pnode RING   count requests and errors per pnode of the ring in RING\n"
    "                     (keys are hashed locally; pnodes are never contacted)\n"
    "  --seed N           seed of the key and operation choice (default 1)\n"
    "  --version          print ringbench's version and exit\n"
    "\n"
    "Every run ends by itself: after -n requests or --duration seconds, and never\n"
    "later than 86400 s, or 10 s after the server stops answering.\n"
    "Exit status: 0 done, 1 --verify found lost or unexpected values (or could not\n"
    "read every key back), 2 usage error, 3 the run could not go on (no\n"
    "connection, AUTH refused, no replies).\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "ringbench: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see ringbench --help)\n");
    return 2;
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v;
    if (parse_u64(s, min, max, &v) < 0)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_seconds(const char *s, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v <= 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_ratio(const char *s, rb_config_t *cfg)
{
    char set[24], get[24];
    const char *colon = strchr(s, ':');
    if (colon == NULL || (size_t)(colon - s) >= sizeof(set) || strlen(colon + 1) >= sizeof(get))
        return -1;
    memcpy(set, s, (size_t)(colon - s));
    set[colon - s] = '\0';
    strcpy(get, colon + 1);
    if (parse_u32(set, 0, 1000000, &cfg->ratio_set) < 0 ||
        parse_u32(get, 0, 1000000, &cfg->ratio_get) < 0 ||
        cfg->ratio_set + cfg->ratio_get == 0)
        return -1;
    return 0;
}

/* Reads argv into cfg; returns 0, 2 after a usage error, or 1 after --help
 * or --version. */
static int parse_args(int argc, char **argv, rb_config_t *cfg)
{
    static const struct option opts[] = {
        {"duration", required_argument, NULL, OPT_DURATION},
        {"rate", required_argument, NULL, OPT_RATE},
        {"dist", required_argument, NULL, OPT_DIST},
        {"ratio", required_argument, NULL, OPT_RATIO},
        {"tls", no_argument, NULL, OPT_TLS},
        {"tls-ca", required_argument, NULL, OPT_TLS_CA},
        {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
        {"tls-key", required_argument, NULL, OPT_TLS_KEY},
        {"auth", required_argument, NULL, OPT_AUTH},
        {"json", no_argument, NULL, OPT_JSON},
        {"verify", no_argument, NULL, OPT_VERIFY},
        {"verify-every", required_argument, NULL, OPT_VERIFY_EVERY},
        {"per-pnode", required_argument, NULL, OPT_PER_PNODE},
        {"keep-state", required_argument, NULL, OPT_KEEP_STATE},
        {"check-only", required_argument, NULL, OPT_CHECK_ONLY},
        {"seed", required_argument, NULL, OPT_SEED},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    int have_n = 0, have_r = 0, opt;
    uint32_t port;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h:p:c:P:n:r:d:", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            if (optarg[0] == '\0')
                return usage_error("bad -h '%s': want a host name or address", optarg);
            cfg->host = optarg;
            break;
        case 'p':
            if (parse_u32(optarg, 1, 65535, &port) < 0)
                return usage_error("bad -p '%s': want a port 1..65535", optarg);
            cfg->port = (uint16_t)port;
            break;
        case 'c':
            if (parse_u32(optarg, 1, RB_MAX_CONNS, &cfg->conns) < 0)
                return usage_error("bad -c '%s': want connections 1..10000", optarg);
            break;
        case 'P':
            if (parse_u32(optarg, 1, RB_MAX_PIPELINE, &cfg->pipeline) < 0)
                return usage_error("bad -P '%s': want a pipeline depth 1..10000", optarg);
            break;
        case 'n':
            if (parse_u64(optarg, 1, UINT64_C(1000000000000), &cfg->requests) < 0)
                return usage_error("bad -n '%s': want requests 1..10^12", optarg);
            have_n = 1;
            break;
        case OPT_DURATION:
            if (parse_seconds(optarg, RB_MAX_SECONDS, &cfg->duration) < 0)
                return usage_error("bad --duration '%s': want seconds > 0, at most 86400",
                                   optarg);
            break;
        case OPT_RATE:
            if (parse_seconds(optarg, 1e9, &cfg->rate) < 0)
                return usage_error("bad --rate '%s': want requests/s > 0", optarg);
            break;
        case 'r':
            if (parse_u32(optarg, 1, KEYSPACE_MAX, &cfg->keyspace) < 0)
                return usage_error("bad -r '%s': want a keyspace 1..100000000", optarg);
            have_r = 1;
            break;
        case OPT_DIST:
            cfg->dist = optarg;
            break;
        case OPT_RATIO:
            if (parse_ratio(optarg, cfg) < 0)
                return usage_error("bad --ratio '%s': want SET:GET, two integers, not both 0",
                                   optarg);
            break;
        case 'd':
            if (parse_u32(optarg, 1, RB_MAX_VALUE, &cfg->value_size) < 0)
                return usage_error("bad -d '%s': want value bytes 1..16777216", optarg);
            break;
        case OPT_TLS:
            cfg->tls = 1;
            break;
        case OPT_TLS_CA:
            cfg->tls = 1;
            cfg->tls_ca = optarg;
            break;
        case OPT_TLS_CERT:
            cfg->tls = 1;
            cfg->tls_cert = optarg;
            break;
        case OPT_TLS_KEY:
            cfg->tls = 1;
            cfg->tls_key = optarg;
            break;
        case OPT_AUTH:
            cfg->auth = optarg;
            break;
        case OPT_JSON:
            cfg->json = 1;
            break;
        case OPT_VERIFY:
            cfg->verify = 1;
            break;
        case OPT_VERIFY_EVERY:
            if (parse_seconds(optarg, RB_MAX_SECONDS, &cfg->verify_every) < 0)
                return usage_error("bad --verify-every '%s': want seconds > 0", optarg);
            break;
        case OPT_PER_PNODE:
            cfg->per_pnode = optarg;
            break;
        case OPT_KEEP_STATE:
            cfg->keep_state = optarg;
            break;
        case OPT_CHECK_ONLY:
            cfg->check_only = optarg;
            break;
        case OPT_SEED:
            if (parse_u64(optarg, 0, UINT64_MAX, &cfg->seed) < 0)
                return usage_error("bad --seed '%s': want a non-negative integer", optarg);
            break;
        case OPT_HELP:
            fputs(usage_text, stdout);
            return 1;
        case OPT_VERSION:
            printf("ringbench (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
            return 1;
        case ':':
            return usage_error("%s needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (have_n && cfg->duration > 0)
        return usage_error("%s-n and --duration exclude each other", "");
    if ((cfg->verify_every > 0 || cfg->keep_state != NULL) && !cfg->verify)
        return usage_error("%s--verify-every and --keep-state need --verify", "");
    if (cfg->check_only != NULL && (cfg->verify || have_n || cfg->duration > 0 || have_r))
        return usage_error("%s--check-only sends no load: it takes no --verify, -n, "
                           "--duration or -r", "");
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
        return usage_error("%s--tls-cert and --tls-key go together", "");
    if (cfg->verify && cfg->keyspace > VERIFY_MAX_KEYS)
        return usage_error("%s--verify tracks at most 10000000 keys (-r)", "");
    char err[KEYSPACE_ERRLEN];
    keyspace_t *ks = keyspace_new(cfg->keyspace, cfg->dist, 0, err);
    if (ks == NULL)
        return usage_error("%s", err);
    keyspace_free(ks);
    return 0;
}

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static void report_json(const rb_config_t *cfg, const rb_result_t *res, const char *fatal,
                        json_buf_t *b)
{
    const histogram_t *h = res->latency;
    const uint64_t *e = res->errors;
    json_puts(b, "{\"target\":");
    json_put_str(b, cfg->host, strlen(cfg->host));
    json_printf(b, ",\"port\":%u,\"connections\":%u,\"pipeline\":%u,\"keyspace\":%u,\"dist\":",
                cfg->port, cfg->conns, cfg->pipeline, cfg->keyspace);
    json_put_str(b, cfg->dist, strlen(cfg->dist));
    json_printf(b, ",\"ratio\":\"%u:%u\",\"value_bytes\":%u", cfg->ratio_set, cfg->ratio_get,
                cfg->value_size);
    json_printf(b, ",\"requests\":%" PRIu64 ",\"sets\":%" PRIu64 ",\"gets\":%" PRIu64
                ",\"elapsed_s\":%.6f,\"rps\":%.1f", res->requests, res->sets, res->gets,
                res->elapsed, res->elapsed > 0 ? (double)res->requests / res->elapsed : 0.0);
    json_printf(b, ",\"latency_ms\":{\"p50\":%.4f,\"p90\":%.4f,\"p99\":%.4f,\"p99.9\":%.4f"
                ",\"max\":%.4f,\"mean\":%.4f}",
                ms(histogram_percentile(h, 50)), ms(histogram_percentile(h, 90)),
                ms(histogram_percentile(h, 99)), ms(histogram_percentile(h, 99.9)),
                ms(histogram_max(h)), histogram_mean(h) / 1e6);
    json_printf(b, ",\"errors\":{\"total\":%" PRIu64 ",\"readonly\":%" PRIu64
                ",\"unavailable\":%" PRIu64 ",\"other\":%" PRIu64 "}",
                e[0] + e[1] + e[2], e[RB_ERR_READONLY], e[RB_ERR_UNAVAILABLE], e[RB_ERR_OTHER]);
    json_printf(b, ",\"readonly_retries\":%" PRIu64 ",\"first_error\":", res->readonly_retries);
    json_put_str(b, res->first_error, strlen(res->first_error));
    if (res->ring != NULL) {
        json_puts(b, ",\"per_pnode\":[");
        for (size_t i = 0; i < ring_pnode_count(res->ring); i++) {
            const char *name = ring_pnode_name(res->ring, i);
            json_puts(b, i ? ",{\"pnode\":" : "{\"pnode\":");
            json_put_str(b, name, strlen(name));
            json_printf(b, ",\"requests\":%" PRIu64 ",\"errors\":%" PRIu64 "}",
                        res->pnode_requests[i], res->pnode_errors[i]);
        }
        json_puts(b, "]");
    }
    if (res->verify != NULL) {
        json_printf(b, ",\"unknown_writes\":%" PRIu64 ",\"unverified\":%" PRIu64
                    ",\"sweeps\":%" PRIu64 ",", res->unknown_writes, res->unverified,
                    res->sweeps);
        verify_report_json(res->verify, b);
    }
    if (fatal != NULL) {
        json_puts(b, ",\"fatal\":");
        json_put_str(b, fatal, strlen(fatal));
    }
    json_puts(b, "}\n");
}

static void report_load(const rb_result_t *res, json_buf_t *b)
{
    const histogram_t *h = res->latency;
    const uint64_t *e = res->errors;
    json_printf(b, "requests:    %" PRIu64 " in %.3f s: %.0f requests/s (%" PRIu64
                " SET, %" PRIu64 " GET)\n", res->requests, res->elapsed,
                res->elapsed > 0 ? (double)res->requests / res->elapsed : 0.0, res->sets,
                res->gets);
    json_printf(b, "latency ms:  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
                ms(histogram_percentile(h, 50)), ms(histogram_percentile(h, 90)),
                ms(histogram_percentile(h, 99)), ms(histogram_percentile(h, 99.9)),
                ms(histogram_max(h)));
    json_printf(b, "errors:      %" PRIu64 " (READONLY %" PRIu64 ", unavailable %" PRIu64
                ", other %" PRIu64 "), READONLY retries %" PRIu64 "\n", e[0] + e[1] + e[2],
                e[RB_ERR_READONLY], e[RB_ERR_UNAVAILABLE], e[RB_ERR_OTHER],
                res->readonly_retries);
    if (res->ring != NULL) {
        json_puts(b, "per pnode:\n");
        for (size_t i = 0; i < ring_pnode_count(res->ring); i++)
            json_printf(b, "  %-40s %12" PRIu64 " requests %10" PRIu64 " errors\n",
                        ring_pnode_name(res->ring, i), res->pnode_requests[i],
                        res->pnode_errors[i]);
    }
}

static void report_text(const rb_config_t *cfg, const rb_result_t *res, json_buf_t *b)
{
    json_printf(b, "ringbench: %s:%u, %u connections, pipeline %u, %s over %u keys, "
                "SET:GET %u:%u, %u-byte values\n", cfg->host, cfg->port, cfg->conns,
                cfg->pipeline, cfg->dist, cfg->keyspace, cfg->ratio_set, cfg->ratio_get,
                cfg->value_size);
    /* --check-only sent no load: only the read-back has something to say */
    if (cfg->check_only == NULL)
        report_load(res, b);
    if (res->first_error[0] != '\0')
        json_printf(b, "first error: %s\n", res->first_error);
    if (res->verify != NULL) {
        verify_report_text(res->verify, b);
        json_printf(b, "  read-backs: %" PRIu64 ", reads without a value %" PRIu64
                    ", writes of unknown outcome %" PRIu64 "\n", res->sweeps,
                    res->unverified, res->unknown_writes);
    }
}

int main(int argc, char **argv)
{
    rb_config_t cfg = {
        .host = "127.0.0.1", .port = 6379, .conns = 50, .pipeline = 1,
        .requests = 100000, .keyspace = 10000, .dist = "uniform",
        .ratio_set = 1, .ratio_get = 10, .value_size = 32, .seed = 1,
    };
    int rc = parse_args(argc, argv, &cfg);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    cfg.progress = isatty(STDERR_FILENO);

    rb_result_t res;
    char err[RB_ERRLEN];
    int failed = rb_run(&cfg, &res, err) < 0;
    if (cfg.check_only != NULL && res.verify != NULL)
        cfg.keyspace = verify_nkeys(res.verify);
    if (failed)
        fprintf(stderr, "ringbench: %s\n", err);
    if (!res.started) {
        rb_result_free(&res);
        return 3;
    }

    json_buf_t b;
    json_buf_init(&b);
    if (cfg.json)
        report_json(&cfg, &res, failed ? err : NULL, &b);
    else
        report_text(&cfg, &res, &b);
    size_t len;
    char *out = json_buf_take(&b, &len);
    if (out != NULL)
        fwrite(out, 1, len, stdout);
    free(out);

    rc = 0;
    if (res.verify != NULL &&
        (verify_lost(res.verify) || verify_unexpected(res.verify) || res.unverified))
        rc = 1;
    if (failed)
        rc = 3;
    rb_result_free(&res);
    return rc;
}
