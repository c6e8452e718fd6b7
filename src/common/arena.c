/* arena.c - see arena.h. */
#include "common/arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tw_arena_block {
    tw_arena_block *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

static void oom(size_t size)
{
    fprintf(stderr, "tidewatch: out of memory (allocating %zu bytes)\n", size);
    abort();
}

void *tw_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        oom(size);
    return p;
}

void *tw_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom(count * size);
    return p;
}

void *tw_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        oom(size);
    return p;
}

char *tw_xstrdup(const char *s)
{
    size_t n = strlen(s);
    char *p = tw_xmalloc(n + 1);
    memcpy(p, s, n + 1);
    return p;
}

char *tw_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    char *s = tw_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void tw_arena_init(tw_arena *arena, size_t block_size)
{
    arena->head = NULL;
    arena->block_size = block_size ? block_size : 64 * 1024;
    arena->used_bytes = 0;
}

void *tw_arena_alloc(tw_arena *arena, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    tw_arena_block *b = arena->head;
    if (!b || b->size - b->used < size) {
        size_t cap = size > arena->block_size ? size : arena->block_size;
        b = tw_xmalloc(sizeof *b + cap);
        b->size = cap;
        b->used = 0;
        b->next = arena->head;
        arena->head = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    arena->used_bytes += size;
    return p;
}

void *tw_arena_calloc(tw_arena *arena, size_t size)
{
    void *p = tw_arena_alloc(arena, size);
    memset(p, 0, size);
    return p;
}

char *tw_arena_strndup(tw_arena *arena, const char *s, size_t n)
{
    char *p = tw_arena_alloc(arena, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *tw_arena_strdup(tw_arena *arena, const char *s)
{
    return tw_arena_strndup(arena, s, strlen(s));
}

void tw_arena_reset(tw_arena *arena)
{
    tw_arena_block *b = arena->head;
    if (!b)
        return;
    /* Keep one block: the largest is the newest only by accident, so keep
     * the head and free the rest. */
    tw_arena_block *rest = b->next;
    while (rest) {
        tw_arena_block *next = rest->next;
        free(rest);
        rest = next;
    }
    b->next = NULL;
    b->used = 0;
    arena->used_bytes = 0;
}

void tw_arena_free(tw_arena *arena)
{
    tw_arena_block *b = arena->head;
    while (b) {
        tw_arena_block *next = b->next;
        free(b);
        b = next;
    }
    arena->head = NULL;
    arena->used_bytes = 0;
}
