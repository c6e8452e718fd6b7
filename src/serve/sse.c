/* sse.c - bounded fan-out queues for Server-Sent Events (see sse.h). */
#include "serve/sse.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/arena.h"

typedef struct sse_msg {
    uint32_t refs; /* guarded by the hub's mutex */
    size_t len;
    char text[];
} sse_msg;

typedef struct queued {
    sse_msg *msg;
    struct queued *next;
} queued;

struct tw_sse_client {
    queued *head, *tail;
    size_t head_offset_bytes; /* already read from head->msg */
    size_t queued_bytes;
    bool dropped;
    tw_sse_client *next;
};

struct tw_sse_hub {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    uint32_t max_clients, nclients;
    size_t max_queue_bytes;
    bool closed;
    tw_sse_client *clients;
    uint64_t dropped, published;
};

static void msg_unref(sse_msg *m)
{
    if (--m->refs == 0)
        free(m);
}

static void client_clear(tw_sse_client *c)
{
    for (queued *q = c->head, *next; q; q = next) {
        next = q->next;
        msg_unref(q->msg);
        free(q);
    }
    c->head = c->tail = NULL;
    c->head_offset_bytes = 0;
    c->queued_bytes = 0;
}

tw_sse_hub *tw_sse_hub_new(uint32_t max_clients, size_t max_queue_bytes)
{
    tw_sse_hub *h = tw_xcalloc(1, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cond, &attr);
    pthread_condattr_destroy(&attr);
    h->max_clients = max_clients;
    h->max_queue_bytes = max_queue_bytes;
    return h;
}

void tw_sse_hub_free(tw_sse_hub *h)
{
    if (!h)
        return;
    assert(h->nclients == 0);
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

tw_sse_client *tw_sse_subscribe(tw_sse_hub *h)
{
    tw_sse_client *c = NULL;
    pthread_mutex_lock(&h->mu);
    if (!h->closed && h->nclients < h->max_clients) {
        c = tw_xcalloc(1, sizeof *c);
        c->next = h->clients;
        h->clients = c;
        h->nclients++;
    }
    pthread_mutex_unlock(&h->mu);
    return c;
}

void tw_sse_unsubscribe(tw_sse_hub *h, tw_sse_client *c)
{
    pthread_mutex_lock(&h->mu);
    for (tw_sse_client **p = &h->clients; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            h->nclients--;
            break;
        }
    }
    client_clear(c);
    pthread_mutex_unlock(&h->mu);
    free(c);
}

void tw_sse_publish(tw_sse_hub *h, const char *text, size_t len)
{
    sse_msg *m = tw_xmalloc(sizeof *m + len);
    m->refs = 1; /* the publisher's, released below */
    m->len = len;
    memcpy(m->text, text, len);
    pthread_mutex_lock(&h->mu);
    h->published++;
    for (tw_sse_client *c = h->clients; c; c = c->next) {
        if (c->dropped)
            continue;
        if (c->queued_bytes + len > h->max_queue_bytes) {
            /* Too far behind: end its stream rather than grow or wait. */
            client_clear(c);
            c->dropped = true;
            h->dropped++;
            continue;
        }
        queued *q = tw_xmalloc(sizeof *q);
        q->msg = m;
        q->next = NULL;
        m->refs++;
        if (c->tail)
            c->tail->next = q;
        else
            c->head = q;
        c->tail = q;
        c->queued_bytes += len;
    }
    msg_unref(m);
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->mu);
}

bool tw_sse_has_clients(tw_sse_hub *h)
{
    pthread_mutex_lock(&h->mu);
    bool any = h->nclients > 0;
    pthread_mutex_unlock(&h->mu);
    return any;
}

ssize_t tw_sse_read(tw_sse_hub *h, tw_sse_client *c, char *buf, size_t cap, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    ssize_t got = 0;
    pthread_mutex_lock(&h->mu);
    while (!c->head && !c->dropped && !h->closed) {
        if (pthread_cond_timedwait(&h->cond, &h->mu, &deadline) == ETIMEDOUT)
            break;
    }
    if (c->dropped || h->closed) {
        got = -1;
    } else {
        size_t n = 0;
        while (c->head && n < cap) {
            queued *q = c->head;
            size_t avail = q->msg->len - c->head_offset_bytes;
            size_t take = avail < cap - n ? avail : cap - n;
            memcpy(buf + n, q->msg->text + c->head_offset_bytes, take);
            n += take;
            c->head_offset_bytes += take;
            c->queued_bytes -= take;
            if (c->head_offset_bytes == q->msg->len) {
                c->head = q->next;
                if (!c->head)
                    c->tail = NULL;
                c->head_offset_bytes = 0;
                msg_unref(q->msg);
                free(q);
            }
        }
        got = (ssize_t)n;
    }
    pthread_mutex_unlock(&h->mu);
    return got;
}

void tw_sse_close(tw_sse_hub *h)
{
    pthread_mutex_lock(&h->mu);
    h->closed = true;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->mu);
}

void tw_sse_get_stats(tw_sse_hub *h, tw_sse_stats *st)
{
    pthread_mutex_lock(&h->mu);
    st->clients = h->nclients;
    st->dropped = h->dropped;
    st->published = h->published;
    pthread_mutex_unlock(&h->mu);
}
