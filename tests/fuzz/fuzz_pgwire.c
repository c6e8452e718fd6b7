/* fuzz_pgwire.c - libFuzzer target for the PostgreSQL protocol layer
 * (serve/pgwire.h): framing, message parsing, parameter substitution.
 *
 * Build and run from the project root after a CMake build (the library is
 * compiled in, instrumented; build/generated/web_assets.c comes from it):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DTW_VERSION='"fuzz"' -Isrc
 *       -o /tmp/fuzz_pgwire tests/fuzz/fuzz_pgwire.c
 *       $(find src -name '*.c' -not -path '*cli*') build/generated/web_assets.c
 *       $(pkg-config --cflags --libs jansson libzstd snappy zlib sqlite3 rdkafka
 *       libmicrohttpd avro-c libpq libcurl openssl) -lm -lpthread
 *   (one command line)
 *   /tmp/fuzz_pgwire -max_total_time=60 -max_len=4096 tests/fuzz/corpus/pgwire
 *
 * The input is a client's byte stream: startup-phase packets until a
 * startup message, then typed messages, as the server reads them. Checks:
 * framing never claims more bytes than there are; a framed message either
 * parses or is refused with a message; a Bind's values, substituted into
 * the last Parse's text, leave no $n token behind and no NUL byte inside.
 *
 * Built with -DTW_FUZZ_REPLAY (tests/pgwire.cmake), main() replays every
 * file of the directories given, for ctest.
 */
#include <assert.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "serve/pgwire.h"
#include "sql/lexer.h"

static void check_substitution(const char *sql, size_t sql_len, const tw_pgwire_msg *parse,
                               const tw_pgwire_msg *bind)
{
    tw_err err;
    size_t out_len = 0;
    char *out = tw_pgwire_substitute(sql, sql_len, parse ? parse->u.parse.param_types : NULL,
                                     parse ? parse->u.parse.nparam_types : 0, bind->u.bind.params,
                                     bind->u.bind.nparams, &out_len, &err);
    if (!out) {
        assert(err.msg[0]);
        return;
    }
    assert(strlen(out) == out_len);
    tw_arena arena;
    tw_arena_init(&arena, 4096);
    tw_sql_tokens toks;
    tw_sql_lex(out, out_len, NULL, &arena, &toks);
    for (uint32_t i = 0; i < toks.count; i++)
        assert(toks.items[i].kind != TW_SQL_TOK_PARAM);
    tw_sql_tokens_free(&toks);
    tw_arena_free(&arena);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool startup = true;
    size_t off = 0;
    char *last_sql = NULL;
    size_t last_len = 0;
    tw_pgwire_msg last_parse;
    bool have_parse = false;
    while (off < size) {
        size_t n = 0;
        tw_err err;
        tw_pgwire_frame_status st = tw_pgwire_frame(data + off, size - off, startup, &n, &err);
        if (st != TW_PGWIRE_FRAMED)
            break;
        assert(n <= size - off && n >= (startup ? 8u : 5u));
        /* A copy of exactly the message, so reads past it are caught. */
        uint8_t *msg = malloc(n);
        memcpy(msg, data + off, n);
        tw_pgwire_msg m;
        if (tw_pgwire_parse(msg, n, startup, &m, &err)) {
            if (m.kind == TW_PGWIRE_STARTUP)
                startup = false;
            if (m.kind == TW_PGWIRE_QUERY)
                (void)tw_pgwire_param_count(m.u.query.sql, m.u.query.len);
            if (m.kind == TW_PGWIRE_PARSE) {
                free(last_sql);
                last_len = m.u.parse.sql_len;
                last_sql = malloc(last_len + 1);
                memcpy(last_sql, m.u.parse.sql, last_len + 1);
                if (have_parse)
                    tw_pgwire_msg_free(&last_parse);
                /* Keep the types (the strings point into msg: only arrays are used). */
                last_parse = m;
                have_parse = true;
                free(msg);
                off += n;
                continue;
            }
            if (m.kind == TW_PGWIRE_BIND)
                check_substitution(last_sql ? last_sql : "SELECT $1, $2", last_sql ? last_len : 13,
                                   have_parse ? &last_parse : NULL, &m);
            tw_pgwire_msg_free(&m);
        } else {
            assert(err.msg[0]);
        }
        free(msg);
        off += n;
    }
    if (have_parse)
        tw_pgwire_msg_free(&last_parse);
    free(last_sql);
    return 0;
}

#ifdef TW_FUZZ_REPLAY
int main(int argc, char **argv)
{
    unsigned files = 0;
    for (int i = 1; i < argc; i++) {
        DIR *dir = opendir(argv[i]);
        if (!dir) {
            fprintf(stderr, "fuzz_pgwire: cannot open %s\n", argv[i]);
            return 2;
        }
        struct dirent *e;
        while ((e = readdir(dir))) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            FILE *f = fopen(path, "rb");
            if (!f)
                continue;
            uint8_t *buf = malloc(1 << 20);
            size_t n = fread(buf, 1, 1 << 20, f);
            fclose(f);
            LLVMFuzzerTestOneInput(buf, n);
            free(buf);
            files++;
        }
        closedir(dir);
    }
    printf("fuzz_pgwire: replayed %u inputs\n", files);
    return files ? 0 : 1;
}
#endif
