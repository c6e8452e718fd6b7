/* catalog.h - where an Iceberg table's current metadata file is recorded.
 *
 * A catalog maps (namespace, table) to the location of the table's current
 * metadata JSON file, and changes that pointer only by compare-and-swap, so
 * concurrent writers never lose each other's commits: a writer that loses
 * the race reloads and retries. Implementations: the SQL catalog
 * (catalog_sql.c: SQLite or PostgreSQL, the iceberg_tables schema shared by
 * pyiceberg's SqlCatalog, Java's JdbcCatalog and iceberg-rust), the storage
 * catalog (catalog_storage.c: version-hint.text in the table directory), and
 * the REST catalog (catalog_rest.c). A REST catalog writes the metadata
 * files itself: it sets the optional load_table / create_table / commit ops,
 * and table code then sends it the new snapshot instead of writing a
 * metadata file and swapping the pointer. Strings returned are malloc'ed and
 * owned by the caller.
 */
#ifndef TW_ICEBERG_CATALOG_H
#define TW_ICEBERG_CATALOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

typedef enum tw_cas_result {
    TW_CAS_OK,
    TW_CAS_CONFLICT, /* the pointer was not expected_location: reload, retry */
    TW_CAS_ERROR,    /* err is set; the outcome may be unknown */
} tw_cas_result;

typedef struct tw_catalog tw_catalog;

typedef struct tw_catalog_ops {
    const char *kind; /* "sql", "storage", "rest" */
    /* Sets *metadata_location to the table's current metadata file, or to
     * NULL when the table does not exist. Returns false on error. */
    bool (*load)(tw_catalog *c, const char *ns, const char *table, char **metadata_location,
                 tw_err *err);
    /* Registers a new table (creating the namespace if needed) whose first
     * metadata file is metadata_location. *already_exists is set, and
     * nothing changed, when another writer created it first. */
    bool (*create)(tw_catalog *c, const char *ns, const char *table,
                   const char *metadata_location, bool *already_exists, tw_err *err);
    /* Points the table at new_location if it still points at
     * expected_location. */
    tw_cas_result (*swap)(tw_catalog *c, const char *ns, const char *table,
                          const char *expected_location, const char *new_location, tw_err *err);
    void (*close)(tw_catalog *c);

    /* Optional, all three or none: a catalog that owns the metadata files
     * (then create and swap may be NULL: table code does not use them).
     * load_table sets *metadata_location and *metadata_json (the document)
     * or both to NULL when the table does not exist. */
    bool (*load_table)(tw_catalog *c, const char *ns, const char *table, char **metadata_location,
                       char **metadata_json, tw_err *err);
    /* Creates the table (and its namespace) with schema (Iceberg schema
     * JSON) and spec (PartitionSpec JSON); location NULL lets the catalog
     * choose. *already_exists is set, and nothing changed, when another
     * writer created it first. */
    bool (*create_table)(tw_catalog *c, const char *ns, const char *table, const char *location,
                         json_t *schema, json_t *spec, bool *already_exists, tw_err *err);
    /* Adds snapshot (a metadata "snapshots" entry) as the head of main if the
     * table is still table_uuid and main is still at expected_snapshot_id
     * (-1: no snapshot). On TW_CAS_OK sets the new *metadata_location and
     * *metadata_json. TW_CAS_CONFLICT: main moved and the snapshot is not in
     * the table. TW_CAS_ERROR: err set; the outcome may be unknown. */
    tw_cas_result (*commit)(tw_catalog *c, const char *ns, const char *table,
                            const char *table_uuid, int64_t expected_snapshot_id, json_t *snapshot,
                            char **metadata_location, char **metadata_json, tw_err *err);
} tw_catalog_ops;

struct tw_catalog {
    const tw_catalog_ops *ops;
    char *name; /* catalog.name, default "default" */
};

/* Opens a SQL catalog. uri: "sqlite:PATH" (created if missing),
 * "postgresql://user:password@host:port/db", or "jdbc:postgresql://host:port/db"
 * (then user and password come from catalog.jdbc.user / catalog.jdbc.password;
 * they may be NULL otherwise). Creates the iceberg_tables and
 * iceberg_namespace_properties tables if missing. Returns NULL with err set
 * (naming the URI without its password) when the database cannot be reached. */
tw_catalog *tw_catalog_open_sql(const char *uri, const char *user, const char *password,
                                const char *catalog_name, tw_err *err);

/* Opens a storage catalog over a warehouse directory: table metadata lives in
 * WAREHOUSE/NS/TABLE/metadata/vN.metadata.json, the current version in
 * version-hint.text. */
tw_catalog *tw_catalog_open_storage(const char *warehouse_dir, tw_err *err);

#endif
