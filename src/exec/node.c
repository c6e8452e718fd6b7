/* node.c - see node.h. */
#include "exec/node.h"

#include <stdlib.h>

void tw_node_init(tw_node *node, const tw_node_ops *ops)
{
    node->ops = ops;
    node->down = NULL;
    node->ndown = 0;
    node->rows_in = 0;
    node->rows_out = 0;
}

void tw_node_connect(tw_node *node, tw_node *child)
{
    node->down = tw_xrealloc(node->down, (node->ndown + 1) * sizeof *node->down);
    node->down[node->ndown++] = child;
}

void tw_node_emit(tw_node *node, const tw_batch *out)
{
    if (out->nrows == 0)
        return;
    node->rows_out += out->nrows;
    for (uint32_t i = 0; i < node->ndown; i++)
        tw_node_push(node->down[i], out);
}

void tw_node_push(tw_node *node, const tw_batch *in)
{
    if (in->nrows == 0)
        return;
    node->rows_in += in->nrows;
    node->ops->push(node, in);
}

void tw_node_forward_watermark(tw_node *node, int64_t wm_us)
{
    for (uint32_t i = 0; i < node->ndown; i++) {
        tw_node *d = node->down[i];
        if (d->ops->watermark)
            d->ops->watermark(d, wm_us);
        else
            tw_node_forward_watermark(d, wm_us);
    }
}

void tw_node_forward_finish(tw_node *node)
{
    for (uint32_t i = 0; i < node->ndown; i++) {
        tw_node *d = node->down[i];
        if (d->ops->finish)
            d->ops->finish(d);
        else
            tw_node_forward_finish(d);
    }
}

void tw_node_free(tw_node *node)
{
    if (!node)
        return;
    free(node->down);
    if (node->ops->destroy)
        node->ops->destroy(node);
    else
        free(node);
}
