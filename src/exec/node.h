/* node.h - the operator graph: nodes that push batches downstream.
 *
 * A pipeline is a DAG of nodes. A producer calls tw_node_emit with a batch;
 * every downstream node's push receives it synchronously and may emit its
 * own output in turn. A batch passed to push is borrowed: the receiver must
 * copy whatever it keeps (strings included) before returning.
 *
 * Besides data, three signals travel the graph in the same order:
 *   watermark(wm_us)  event time below wm_us is complete (from a source's
 *                     WATERMARK, or from the end of input);
 *   barrier()         publish: stateful nodes emit their pending changes
 *                     (called on every node in creation order, so upstream
 *                     nodes flush before downstream ones);
 *   finish()          end of input: close everything, emit what is left.
 * The default handlers forward watermark and finish downstream and ignore
 * barriers.
 */
#ifndef TW_EXEC_NODE_H
#define TW_EXEC_NODE_H

#include <stdint.h>

#include "exec/batch.h"

typedef struct tw_node tw_node;

typedef struct tw_node_ops {
    const char *kind; /* "filter", "hash_agg", ... for EXPLAIN and errors */
    void (*push)(tw_node *node, const tw_batch *in);
    void (*watermark)(tw_node *node, int64_t wm_us);
    void (*barrier)(tw_node *node);
    void (*finish)(tw_node *node);
    void (*destroy)(tw_node *node); /* frees the node's own state */
} tw_node_ops;

struct tw_node {
    const tw_node_ops *ops;
    tw_node **down; /* not owned: the graph owns every node */
    uint32_t ndown;
    uint64_t rows_in;
    uint64_t rows_out;
};

/* Initialises the common part of a node. */
void tw_node_init(tw_node *node, const tw_node_ops *ops);

/* Adds `child` as a consumer of `node`'s output. */
void tw_node_connect(tw_node *node, tw_node *child);

/* Sends a batch to every consumer. Empty batches are not sent. */
void tw_node_emit(tw_node *node, const tw_batch *out);

/* Hands a batch to `node` itself, as its producer would (counted in its
 * rows_in): how a new node is fed rows that flowed before it was connected
 * (backfill). The batch stays the caller's. Empty batches are not sent. */
void tw_node_push(tw_node *node, const tw_batch *in);

/* Default signal handlers: forward to every consumer. */
void tw_node_forward_watermark(tw_node *node, int64_t wm_us);
void tw_node_forward_finish(tw_node *node);

/* Calls destroy (if any) and frees the node. */
void tw_node_free(tw_node *node);

#endif
