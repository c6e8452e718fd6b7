/* iceberg_write - builds Iceberg tables through tidewatch's table API for
 * tests/integration/iceberg_read.mjs, writing Parquet files with
 * tidewatch's writer the way the sink does.
 *
 *   iceberg_write CATALOG WAREHOUSE OUT.json
 *       CATALOG is "storage" or a SQL catalog URI ("sqlite:PATH").
 *       Creates three tables in namespace "public": "plain" (unpartitioned,
 *       three commits), "parted" (partitioned by region, day(ts),
 *       bucket(4, id), truncate(3, name); two commits) and "upsert"
 *       (identifier id; a commit of data, then an "overwrite" commit with
 *       an equality delete file and the new versions of the deleted keys).
 *       Then two processes race 4 commits each into "plain". OUT.json gets,
 *       per table, the expected rows (one JSON array per row, 64-bit
 *       integers and timestamps as decimal strings), the current metadata
 *       location and the number of snapshots expected.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "exec/batch.h"
#include "iceberg/catalog.h"
#include "iceberg/fileio.h"
#include "iceberg/iceberg.h"
#include "iceberg/parquet.h"

static const char *catalog_spec;
static const char *warehouse;

static void die(const char *what, const tw_err *err)
{
    fprintf(stderr, "iceberg_write: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static tw_catalog *open_catalog(void)
{
    tw_err err = {0};
    tw_catalog *cat = strcmp(catalog_spec, "storage") == 0
                          ? tw_catalog_open_storage(warehouse, &err)
                          : tw_catalog_open_sql(catalog_spec, NULL, NULL, "default", &err);
    if (!cat)
        die("catalog", &err);
    return cat;
}

static const tw_iceberg_field fields[] = {
    {1, "id", TW_T_INT64, true},      {2, "name", TW_T_VARCHAR, false},
    {3, "region", TW_T_VARCHAR, false}, {4, "value", TW_T_FLOAT64, false},
    {5, "ratio", TW_T_FLOAT32, false}, {6, "ts", TW_T_TIMESTAMPTZ, false},
    {7, "flag", TW_T_BOOL, false},    {8, "count", TW_T_INT32, false},
};
#define NFIELDS 8
static const int32_t key_ids[] = {1};

static const char *regions[] = {"eu-west", "us east", "ap/south"};

static void row_values(int64_t id, int version, tw_value *v)
{
    static char names[64][32];
    snprintf(names[id % 64], sizeof names[0], "dev-%03" PRId64 "%s", id, version ? "-v2" : "");
    memset(v, 0, NFIELDS * sizeof *v);
    for (int c = 0; c < NFIELDS; c++)
        v[c].type = fields[c].type;
    v[0].i64 = id;
    v[1].s = (tw_str){names[id % 64], (uint32_t)strlen(names[id % 64])};
    v[1].is_null = id % 11 == 5;
    v[2].s = (tw_str){regions[id % 3], (uint32_t)strlen(regions[id % 3])};
    v[3].f64 = (double)id * 1.25 - 7 + version;
    v[3].is_null = id % 13 == 4;
    v[4].f64 = (double)(float)(id * 0.5f);
    /* Three days from 2026-01-27, some before midnight UTC. */
    v[5].i64 = INT64_C(1769546833482913) + (id % 3) * INT64_C(86400000000) + id * 1000;
    v[6].b = (uint8_t)(id % 2);
    v[7].i64 = (int64_t)(id * 7 % 100) - 50;
    v[7].is_null = id % 17 == 3;
}

static void json_str(FILE *f, const char *p, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_row(FILE *f, const tw_value *v, int ncols)
{
    fputc('[', f);
    for (int c = 0; c < ncols; c++) {
        if (c)
            fputc(',', f);
        if (v[c].is_null) {
            fputs("null", f);
            continue;
        }
        switch (v[c].type) {
        case TW_T_BOOL: fputs(v[c].b ? "true" : "false", f); break;
        case TW_T_INT32: fprintf(f, "%" PRId64, v[c].i64); break;
        case TW_T_FLOAT32:
        case TW_T_FLOAT64: fprintf(f, "%.17g", v[c].f64); break;
        case TW_T_VARCHAR: json_str(f, v[c].s.ptr, v[c].s.len); break;
        default: fprintf(f, "\"%" PRId64 "\"", v[c].i64); break;
        }
    }
    fputc(']', f);
}

static int out_write(void *ctx, const void *data, size_t len)
{
    tw_err err = {0};
    return tw_fileio_out_write(ctx, data, len, &err) ? 0 : -1;
}

/* Everything one written file needs until its commit. */
typedef struct written {
    tw_iceberg_data_file file;
    char *location;
    tw_parquet_file_stats stats;
    tw_iceberg_column_metrics metrics[NFIELDS];
    tw_value partition[8];
    char partition_strings[8][64];
} written;

/* Writes rows (ids with their versions) as one Parquet file of columns
 * [0..ncols) of the schema, the way the sink does. */
static void write_file(tw_iceberg_table *t, tw_fileio *io, const int64_t *ids, const int *versions,
                       uint32_t n, uint32_t ncols, tw_iceberg_content content, written *w)
{
    tw_err err = {0};
    tw_type types[NFIELDS];
    tw_parquet_column cols[NFIELDS];
    const tw_iceberg_schema *schema = tw_iceberg_table_schema(t);
    for (uint32_t c = 0; c < ncols; c++) {
        types[c] = fields[c].type;
        cols[c] = (tw_parquet_column){fields[c].name, fields[c].type, schema->fields[c].id,
                                      fields[c].required};
    }
    tw_batch *b = tw_batch_new(types, ncols, n);
    tw_value row[NFIELDS];
    for (uint32_t r = 0; r < n; r++) {
        row_values(ids[r], versions[r], row);
        for (uint32_t c = 0; c < ncols; c++) {
            if (row[c].type == TW_T_VARCHAR && !row[c].is_null)
                row[c].s = tw_batch_strdup(b, row[c].s.ptr, row[c].s.len);
            tw_column_put(&b->cols[c], r, &row[c]);
        }
    }
    b->nrows = n;
    memset(w, 0, sizeof *w);
    /* All rows of a file share one partition: take it from the first. */
    row_values(ids[0], versions[0], row);
    if (!tw_iceberg_table_partition_of(t, row, w->partition, &err))
        die("partition", &err);
    for (uint32_t p = 0; p < tw_iceberg_table_partition_fields(t); p++) {
        if (w->partition[p].type == TW_T_VARCHAR && !w->partition[p].is_null) {
            uint32_t len = w->partition[p].s.len < 63 ? w->partition[p].s.len : 63;
            memcpy(w->partition_strings[p], w->partition[p].s.ptr, len);
            w->partition[p].s.ptr = w->partition_strings[p];
            w->partition[p].s.len = len;
        }
    }
    w->location = tw_iceberg_table_data_location(t, w->partition);
    char delete_schema[128];
    snprintf(delete_schema, sizeof delete_schema,
             "{\"type\":\"struct\",\"schema-id\":0,\"fields\":[{\"id\":%d,\"name\":\"id\",\"required\":"
             "true,\"type\":\"long\"}]}",
             (int)schema->fields[0].id);
    tw_parquet_kv kv = {"iceberg.schema",
                        content == TW_ICEBERG_DATA ? tw_iceberg_table_schema_json(t) : delete_schema};
    tw_parquet_opts opts = {.metadata = &kv, .nmetadata = 1, .row_group_bytes = 4096};
    tw_fileio_out *out = tw_fileio_create(io, w->location, &err);
    if (!out)
        die("create", &err);
    tw_parquet_writer *pw = tw_parquet_writer_new(cols, ncols, &opts, out_write, out, &err);
    if (!pw || !tw_parquet_writer_add_batch(pw, b, &err) || !tw_parquet_writer_close(pw, &w->stats, &err))
        die("parquet", &err);
    tw_parquet_writer_free(pw);
    if (!tw_fileio_out_commit(out, &err))
        die("commit file", &err);
    tw_batch_free(b);
    for (uint32_t c = 0; c < ncols; c++) {
        const tw_parquet_column_stats *s = &w->stats.cols[c];
        w->metrics[c] = (tw_iceberg_column_metrics){
            .field_id = s->field_id,
            .column_size_bytes = s->compressed_bytes,
            .value_count = s->value_count,
            .null_count = s->null_count,
            .nan_count = s->nan_count,
            .has_bounds = s->has_bounds,
            .lower = s->min,
            .upper = s->max,
        };
    }
    w->file = (tw_iceberg_data_file){
        .content = content,
        .location = w->location,
        .record_count = w->stats.record_count,
        .file_size_bytes = w->stats.file_size_bytes,
        .partition = w->partition,
        .columns = w->metrics,
        .ncolumns = ncols,
        .split_offsets = w->stats.split_offsets,
        .nsplit_offsets = w->stats.nsplits,
        .equality_ids = content == TW_ICEBERG_EQUALITY_DELETES ? key_ids : NULL,
        .nequality_ids = content == TW_ICEBERG_EQUALITY_DELETES ? 1 : 0,
    };
}

static void written_free(written *w)
{
    free(w->location);
    tw_parquet_file_stats_free(&w->stats);
}

static tw_iceberg_table *open_table(tw_catalog *cat, tw_fileio *io, const char *name,
                                    const char *partition_by)
{
    tw_err err = {0};
    tw_iceberg_schema schema = {fields, NFIELDS, key_ids, 1};
    tw_iceberg_table *t = tw_iceberg_table_open(cat, io, warehouse, "public", name, &schema,
                                                partition_by, true, &err);
    if (!t)
        die(name, &err);
    return t;
}

static void commit(tw_iceberg_table *t, written *ws, uint32_t n, const char *position)
{
    tw_err err = {0};
    tw_iceberg_data_file files[16];
    memset(files, 0, sizeof files);
    for (uint32_t i = 0; i < n; i++)
        files[i] = ws[i].file;
    tw_iceberg_kv props[] = {{"tidewatch.positions", position}, {"tidewatch.watermark", "0"}};
    if (!tw_iceberg_table_commit(t, files, n, props, 2, &err))
        die("commit", &err);
    for (uint32_t i = 0; i < n; i++)
        written_free(&ws[i]);
}

/* Commits ids [from, to) as one file per partition key (id % 3 decides
 * region and day; bucket and truncate split further, so group exactly by
 * the partition path). */
static void commit_range(tw_iceberg_table *t, tw_fileio *io, int64_t from, int64_t to,
                         const char *position)
{
    written ws[16];
    uint32_t nw = 0;
    int64_t ids[64];
    int versions[64] = {0};
    tw_err err = {0};
    char *paths[64];
    uint32_t np = tw_iceberg_table_partition_fields(t);
    for (int64_t id = from; id < to; id++) {
        tw_value row[NFIELDS], part[8];
        row_values(id, 0, row);
        if (!tw_iceberg_table_partition_of(t, row, part, &err))
            die("partition", &err);
        char *loc = tw_iceberg_table_data_location(t, part);
        *strrchr(loc, '/') = '\0';
        paths[id - from] = loc;
    }
    (void)np;
    bool done[64] = {false};
    for (int64_t i = from; i < to; i++) {
        if (done[i - from])
            continue;
        uint32_t n = 0;
        for (int64_t k = i; k < to; k++)
            if (!done[k - from] && strcmp(paths[k - from], paths[i - from]) == 0) {
                ids[n++] = k;
                done[k - from] = true;
            }
        write_file(t, io, ids, versions, n, NFIELDS, TW_ICEBERG_DATA, &ws[nw++]);
    }
    for (int64_t i = from; i < to; i++)
        free(paths[i - from]);
    commit(t, ws, nw, position);
}

static void race(int worker)
{
    tw_catalog *cat = open_catalog();
    tw_fileio *io = tw_fileio_open_local();
    tw_iceberg_table *t = open_table(cat, io, "plain", NULL);
    for (int i = 0; i < 4; i++) {
        int64_t from = 1000 + worker * 100 + i * 10;
        commit_range(t, io, from, from + 5, "race");
    }
    tw_iceberg_table_free(t);
    tw_fileio_close(io);
    cat->ops->close(cat);
}

static void emit_rows(FILE *f, const int64_t *ids, const int *versions, uint32_t n)
{
    fputs("[", f);
    for (uint32_t i = 0; i < n; i++) {
        tw_value row[NFIELDS];
        row_values(ids[i], versions ? versions[i] : 0, row);
        if (i)
            fputs(",\n", f);
        json_row(f, row, NFIELDS);
    }
    fputs("]", f);
}

static void emit_table(FILE *f, tw_iceberg_table *t, const char *name, const int64_t *ids,
                       const int *versions, uint32_t n, int snapshots, bool last)
{
    tw_err err = {0};
    if (!tw_iceberg_table_reload(t, &err))
        die("reload", &err);
    fprintf(f, "\"%s\": {\"location\": ", name);
    json_str(f, tw_iceberg_table_location(t), strlen(tw_iceberg_table_location(t)));
    fputs(", \"metadata_location\": ", f);
    json_str(f, tw_iceberg_table_metadata_location(t), strlen(tw_iceberg_table_metadata_location(t)));
    const char *pos = tw_iceberg_table_snapshot_property(t, "tidewatch.positions");
    fprintf(f, ", \"snapshots\": %d, \"positions\": ", snapshots);
    json_str(f, pos ? pos : "", pos ? strlen(pos) : 0);
    fputs(", \"columns\": [", f);
    for (int c = 0; c < NFIELDS; c++)
        fprintf(f, "%s\"%s\"", c ? "," : "", fields[c].name);
    fputs("], \"rows\": ", f);
    emit_rows(f, ids, versions, n);
    fprintf(f, "}%s\n", last ? "" : ",");
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: iceberg_write storage|sqlite:PATH WAREHOUSE OUT.json\n");
        return 2;
    }
    catalog_spec = argv[1];
    warehouse = argv[2];
    tw_catalog *cat = open_catalog();
    tw_fileio *io = tw_fileio_open_local();

    tw_iceberg_table *plain = open_table(cat, io, "plain", NULL);
    commit_range(plain, io, 0, 20, "p1");
    commit_range(plain, io, 20, 30, "p2");
    commit_range(plain, io, 30, 31, "p3");

    tw_iceberg_table *parted =
        open_table(cat, io, "parted", "region, day(ts), bucket(4, id), truncate(3, name)");
    commit_range(parted, io, 0, 24, "q1");
    commit_range(parted, io, 24, 40, "q2");

    tw_iceberg_table *upsert = open_table(cat, io, "upsert", NULL);
    commit_range(upsert, io, 0, 10, "u1");
    {
        written ws[2];
        int64_t changed[] = {2, 5, 7};
        int v0[] = {0, 0, 0}, v1[] = {1, 1, 1};
        write_file(upsert, io, changed, v0, 3, 1, TW_ICEBERG_EQUALITY_DELETES, &ws[0]);
        write_file(upsert, io, changed, v1, 3, NFIELDS, TW_ICEBERG_DATA, &ws[1]);
        commit(upsert, ws, 2, "u2");
    }

    pid_t kids[2];
    for (int w = 0; w < 2; w++) {
        kids[w] = fork();
        if (kids[w] == 0) {
            race(w);
            _exit(0);
        }
    }
    for (int w = 0; w < 2; w++) {
        int status = 0;
        if (waitpid(kids[w], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            die("racing writer", NULL);
    }

    FILE *f = fopen(argv[3], "w");
    if (!f)
        die(argv[3], NULL);
    fputs("{\n", f);
    int64_t ids[200];
    int versions[200] = {0};
    uint32_t n = 0;
    for (int64_t id = 0; id < 31; id++)
        ids[n++] = id;
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < 4; i++)
            for (int k = 0; k < 5; k++)
                ids[n++] = 1000 + w * 100 + i * 10 + k;
    emit_table(f, plain, "plain", ids, NULL, n, 3 + 8, false);
    n = 0;
    for (int64_t id = 0; id < 40; id++)
        ids[n++] = id;
    emit_table(f, parted, "parted", ids, NULL, n, 2, false);
    n = 0;
    for (int64_t id = 0; id < 10; id++) {
        versions[n] = id == 2 || id == 5 || id == 7;
        ids[n++] = id;
    }
    emit_table(f, upsert, "upsert", ids, versions, n, 2, true);
    fputs("}\n", f);
    fclose(f);
    tw_iceberg_table_free(plain);
    tw_iceberg_table_free(parted);
    tw_iceberg_table_free(upsert);
    tw_fileio_close(io);
    cat->ops->close(cat);
    return 0;
}
