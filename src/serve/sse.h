/* sse.h - fan-out of Server-Sent Event text to streaming HTTP clients.
 *
 * The pipeline thread publishes one message per barrier (already formatted
 * as SSE text); every subscribed client gets it in its own bounded queue.
 * Publishing never blocks on a client: a client whose queue would exceed its
 * byte bound is dropped (its next read ends the stream), so a slow or stuck
 * browser cannot hold back the pipeline. The HTTP server reads a client's
 * queue without waiting and suspends the connection while it is empty,
 * resuming it on publish and when a keepalive is due. Messages are shared between
 * queues by reference count. The hub owns its clients until they are
 * unsubscribed; a client is used by one reader thread at a time.
 */
#ifndef TW_SERVE_SSE_H
#define TW_SERVE_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct tw_sse_hub tw_sse_hub;
typedef struct tw_sse_client tw_sse_client;

/* A hub for at most max_clients clients, each holding at most
 * max_queue_bytes of unread text. Never NULL. */
tw_sse_hub *tw_sse_hub_new(uint32_t max_clients, size_t max_queue_bytes);
/* Frees the hub; every client must have been unsubscribed. */
void tw_sse_hub_free(tw_sse_hub *hub);

/* Adds a client, or returns NULL when max_clients are connected or the hub
 * is closed. */
tw_sse_client *tw_sse_subscribe(tw_sse_hub *hub);
void tw_sse_unsubscribe(tw_sse_hub *hub, tw_sse_client *client);

/* Copies text into every client's queue (dropping clients it would
 * overflow) and wakes their readers. Safe from any thread; does not wait on
 * readers. */
void tw_sse_publish(tw_sse_hub *hub, const char *text, size_t len);

/* True when at least one client is subscribed (a cheap check that lets the
 * publisher skip formatting when nobody listens). */
bool tw_sse_has_clients(tw_sse_hub *hub);

/* Copies up to cap bytes of the client's queue into buf, waiting up to
 * timeout_ms for some. Returns the bytes copied, 0 on timeout, -1 when the
 * client was dropped or the hub closed (end the stream). */
ssize_t tw_sse_read(tw_sse_hub *hub, tw_sse_client *client, char *buf, size_t cap,
                    int timeout_ms);

/* Ends every stream (readers get -1) and refuses new clients: call before
 * stopping the HTTP server so that no reader waits out its timeout. */
void tw_sse_close(tw_sse_hub *hub);

typedef struct tw_sse_stats {
    uint32_t clients;
    uint64_t dropped;   /* clients dropped for a full queue */
    uint64_t published; /* messages published */
} tw_sse_stats;
void tw_sse_get_stats(tw_sse_hub *hub, tw_sse_stats *stats);

#endif
