/*
 * client.h - a client connection: parses its requests, dispatches them in
 * arrival order and writes their replies back in that same order.
 */
#ifndef RP_CLIENT_H
#define RP_CLIENT_H

#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/util.h>

#include "request.h"
#include "resp.h"

#include "conn.h"

struct worker;

typedef struct client {
    TAILQ_ENTRY(client) link;
    struct worker *worker;
    conn_t *conn;
    resp_parser_t parser;
    struct request_queue queue;
    uint32_t nqueue;
    size_t held;    /* reply bytes in queued requests, not yet in conn->out */
    struct event *soft_ev; /* armed while over the soft output limit */
    int closing;    /* close once the queued replies are written */
    int killed;     /* over an output limit: closing without writing */
    int paused;     /* not reading: too many requests in flight */
    int in_input;   /* inside client_input, which must not recurse */
    int authed;     /* AUTH done, or no requirepass */
    uint64_t id;    /* CLIENT ID: unique in the process, from 1 */
    char *name;     /* CLIENT SETNAME; NULL = none */
    uint64_t created_ms; /* for CLIENT INFO's age */
    struct txn *txn; /* inside MULTI: the block queued so far */
    struct pinned *pinned; /* its dedicated pnode connections (pinned.c) */
    uint8_t reply_off;  /* CLIENT REPLY OFF */
    uint8_t reply_skip; /* CLIENT REPLY SKIP: the next request gets no reply */
    int proto;      /* RESP version chosen by HELLO: 2 or 3 */
    struct pubsub *pubsub; /* NULL until it subscribes */
} client_t;

TAILQ_HEAD(client_list, client);

/* tls: the socket came from tls-port; the handshake comes first. */
client_t *client_new(struct worker *w, evutil_socket_t fd, int tls);
void client_free(client_t *c);
/* Writes the replies at the head of the queue that are complete. */
void client_flush(client_t *c);
int client_is_head(const client_t *c, const request_t *r);
/* r is the head: its reply (len bytes of src) goes straight out. */
void client_reply_head(client_t *c, request_t *r, struct evbuffer *src, size_t len);
/* n more reply bytes are held in r, a request in c's queue. */
void client_hold(client_t *c, request_t *r, size_t n);
/* Stops reading; closes once the replies already owed are written. */
void client_shutdown(client_t *c);
/* Frees a closing client with nothing left to write; returns 1 if freed. */
int client_maybe_close(client_t *c);

#endif
