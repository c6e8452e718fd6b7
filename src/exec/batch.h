/* batch.h - column batches, the unit of work of every operator.
 *
 * A batch holds up to `capacity` rows as typed columns, each with a validity
 * byte per row (1 = value present, 0 = SQL NULL; the value slot of a NULL is
 * zero). An optional op column turns a batch into a changelog: each row is
 * an insert, a delete, or one half of an update (U- then U+ on adjacent
 * rows). A batch without ops is all inserts.
 *
 * String values point into memory that outlives the batch's use: the
 * batch's own arena (tw_batch_strdup), or a buffer the producer of the batch
 * promises to keep until the batch is reset. The batch owns its column
 * arrays and its arena.
 */
#ifndef TW_EXEC_BATCH_H
#define TW_EXEC_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "exec/types.h"

#define TW_BATCH_ROWS 1024

typedef enum tw_op {
    TW_OP_INSERT = 0,
    TW_OP_DELETE = 1,
    TW_OP_UPDATE_DELETE = 2, /* old value of an update; the U+ row follows */
    TW_OP_UPDATE_INSERT = 3, /* new value of an update */
} tw_op;

static inline int tw_op_sign(uint8_t op)
{
    return (op == TW_OP_DELETE || op == TW_OP_UPDATE_DELETE) ? -1 : 1;
}

typedef struct tw_column {
    tw_type type;
    uint8_t *valid; /* capacity bytes */
    union {
        uint8_t *b;
        int64_t *i64;
        double *f64;
        tw_str *s;
        void *data;
    };
} tw_column;

typedef struct tw_batch {
    uint32_t nrows;
    uint32_t capacity;
    uint32_t ncols;
    tw_column *cols;
    uint8_t *ops; /* capacity bytes of tw_op, or NULL when every row is an insert */
    tw_arena arena;
} tw_batch;

/* Allocates a batch with the given column types and room for capacity rows.
 * Never NULL. Free with tw_batch_free. */
tw_batch *tw_batch_new(const tw_type *types, uint32_t ncols, uint32_t capacity);
void tw_batch_free(tw_batch *batch);

/* Empties the batch (nrows = 0, ops dropped, arena reset). Column arrays are
 * kept; string values handed out earlier become invalid. */
void tw_batch_reset(tw_batch *batch);

/* Makes the batch a changelog: allocates ops if missing and marks the
 * existing rows as inserts. */
void tw_batch_ensure_ops(tw_batch *batch);

/* Copies bytes into the batch's arena and returns a slice of the copy. */
tw_str tw_batch_strdup(tw_batch *batch, const char *ptr, size_t len);

/* Sets row `row` of column `col` to NULL. */
static inline void tw_col_set_null(tw_column *col, uint32_t row)
{
    col->valid[row] = 0;
    switch (tw_type_phys(col->type)) {
    case TW_PHYS_BOOL: col->b[row] = 0; break;
    case TW_PHYS_I64: col->i64[row] = 0; break;
    case TW_PHYS_F64: col->f64[row] = 0; break;
    case TW_PHYS_STR: col->s[row] = (tw_str){0}; break;
    }
}

/* Appends row `src_row` of `src` to `dst` (same column types). Strings are
 * copied into dst's arena when copy_strings is nonzero; otherwise dst points
 * at src's bytes. Returns the new row's index. The caller checks capacity. */
uint32_t tw_batch_append_row(tw_batch *dst, const tw_batch *src, uint32_t src_row, int copy_strings);

#endif
