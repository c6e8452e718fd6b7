/* arena.h - bump allocator for memory that dies together.
 *
 * An arena hands out memory from large blocks and frees it all at once with
 * tw_arena_reset or tw_arena_free. Batches keep their string bytes here; the
 * parser keeps its AST here. Allocation never fails: out of memory aborts
 * the process with a message (there is nothing sensible to do mid-batch).
 */
#ifndef TW_COMMON_ARENA_H
#define TW_COMMON_ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct tw_arena_block tw_arena_block;

typedef struct tw_arena {
    tw_arena_block *head;  /* current block; older blocks chain behind it */
    size_t block_size;     /* size of ordinary blocks */
    size_t used_bytes;     /* bytes handed out since the last reset */
} tw_arena;

/* Initialises an empty arena; no memory is taken until the first alloc. */
void tw_arena_init(tw_arena *arena, size_t block_size);

/* Returns size bytes aligned to 16. Never NULL. */
void *tw_arena_alloc(tw_arena *arena, size_t size);

/* Like tw_arena_alloc but zero-filled. */
void *tw_arena_calloc(tw_arena *arena, size_t size);

/* Copies n bytes into the arena and NUL-terminates the copy. */
char *tw_arena_strndup(tw_arena *arena, const char *s, size_t n);
char *tw_arena_strdup(tw_arena *arena, const char *s);

/* Forgets every allocation; keeps the newest block for reuse. */
void tw_arena_reset(tw_arena *arena);

/* Releases all memory. The arena may be initialised again afterwards. */
void tw_arena_free(tw_arena *arena);

/* Allocation helpers that abort on failure, for memory outside arenas. */
void *tw_xmalloc(size_t size);
void *tw_xcalloc(size_t count, size_t size);
void *tw_xrealloc(void *ptr, size_t size);
char *tw_xstrdup(const char *s);
/* A malloc'ed printf-formatted string. */
char *tw_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
