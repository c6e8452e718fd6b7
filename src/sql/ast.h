/* ast.h - the syntax tree of a tidewatch SQL script (RisingWave dialect).
 *
 * The parser (parser.h) builds these nodes; the binder turns them into a
 * plan. Every node and every string lives in the tw_arena given to the
 * parser and dies with it; nothing here is freed on its own. Lists are a
 * pointer plus a count (the pointer may be NULL when the count is 0).
 * Every node carries `loc`, the byte offset in the script text of the
 * node's first character, for tw_sql_error_at (sqlerr.h).
 *
 * Names: unquoted identifiers are lowercased, "quoted" ones keep their
 * case; all strings are NUL-terminated. The tree keeps what was written
 * (an ORDER BY 1 is the integer literal 1, a GROUP BY alias is a column
 * reference): resolving names and types is the binder's job.
 */
#ifndef TW_SQL_AST_H
#define TW_SQL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec/types.h"

/* A possibly qualified object name: schema.name or name (schema NULL). */
typedef struct tw_sql_name {
    const char *schema;
    const char *name;
    uint32_t loc;
} tw_sql_name;

/* A type as written in a column definition or a cast. */
typedef struct tw_sql_type_ref {
    tw_type type;
    int32_t length; /* VARCHAR(n): n; -1 when not given */
    uint32_t loc;
} tw_sql_type_ref;

/* ---- WITH ( key = value, ... ) options ---------------------------------- */

typedef enum tw_sql_value_kind {
    TW_SQL_VAL_STRING, /* 'text': value is the unescaped text */
    TW_SQL_VAL_NUMBER, /* 42, 1.5, -3: value is the text as written */
    TW_SQL_VAL_BOOL,   /* TRUE / FALSE: value is "true" / "false" */
    TW_SQL_VAL_IDENT,  /* public.conn: value is the (lowercased) dotted name */
} tw_sql_value_kind;

typedef struct tw_sql_option {
    const char *key;   /* lowercased, parts joined with '.', e.g. "scan.startup.mode" */
    const char *value;
    tw_sql_value_kind kind;
    uint32_t loc;      /* of the key */
    uint32_t value_loc;
} tw_sql_option;

typedef struct tw_sql_options {
    tw_sql_option *items;
    uint32_t count;
} tw_sql_options;

/* FORMAT PLAIN ENCODE JSON [( options )]; present == false when absent. */
typedef struct tw_sql_format {
    bool present;
    const char *format; /* lowercased: "plain", "upsert", ... */
    const char *encode; /* lowercased: "json", "avro", ... */
    tw_sql_options options;
    uint32_t loc;
} tw_sql_format;

/* ---- expressions --------------------------------------------------------- */

typedef struct tw_sql_expr tw_sql_expr;
typedef struct tw_sql_select tw_sql_select;

typedef enum tw_sql_expr_kind {
    TW_SQL_E_INT,        /* integer literal that fits int64: u.int_lit */
    TW_SQL_E_NUMERIC,    /* integer literal too big for int64: u.text */
    TW_SQL_E_DECIMAL,    /* 1.5, 1e3: u.decimal (text and double) */
    TW_SQL_E_STRING,     /* 'text': u.text (unescaped) */
    TW_SQL_E_BOOL,       /* TRUE / FALSE: u.bool_lit */
    TW_SQL_E_NULL,       /* NULL */
    TW_SQL_E_INTERVAL,   /* INTERVAL '10 seconds' / INTERVAL '5' SECOND: u.interval */
    TW_SQL_E_TYPED_LIT,  /* TIMESTAMP '...', TIMESTAMPTZ '...', DATE '...': u.typed */
    TW_SQL_E_COLUMN,     /* a, t.a, s.t.a: u.column */
    TW_SQL_E_UNARY,      /* NOT a, -a, +a: u.unary */
    TW_SQL_E_BINARY,     /* a op b: u.binary */
    TW_SQL_E_FUNC,       /* f(args), f(DISTINCT args), count(*): u.func */
    TW_SQL_E_CASE,       /* CASE [operand] WHEN .. THEN .. [ELSE ..] END: u.case_ */
    TW_SQL_E_CAST,       /* CAST(a AS t), a::t: u.cast */
    TW_SQL_E_IS,         /* a IS [NOT] NULL/TRUE/FALSE/UNKNOWN/DISTINCT FROM b: u.is */
    TW_SQL_E_BETWEEN,    /* a [NOT] BETWEEN lo AND hi: u.between */
    TW_SQL_E_IN,         /* a [NOT] IN (list): u.in */
    TW_SQL_E_LIKE,       /* a [NOT] LIKE/ILIKE pattern [ESCAPE e]: u.like */
    TW_SQL_E_EXTRACT,    /* EXTRACT(field FROM a): u.extract */
} tw_sql_expr_kind;

typedef enum tw_sql_unary_op {
    TW_SQL_U_NOT,
    TW_SQL_U_NEG,
    TW_SQL_U_PLUS,
} tw_sql_unary_op;

typedef enum tw_sql_binary_op {
    TW_SQL_B_OR,
    TW_SQL_B_AND,
    TW_SQL_B_EQ,
    TW_SQL_B_NE, /* <> and != */
    TW_SQL_B_LT,
    TW_SQL_B_GT,
    TW_SQL_B_LE,
    TW_SQL_B_GE,
    TW_SQL_B_ADD,
    TW_SQL_B_SUB,
    TW_SQL_B_MUL,
    TW_SQL_B_DIV,
    TW_SQL_B_MOD,
    TW_SQL_B_CONCAT, /* || */
} tw_sql_binary_op;

typedef enum tw_sql_interval_unit {
    TW_SQL_IU_NONE = 0,
    TW_SQL_IU_YEAR,
    TW_SQL_IU_MONTH,
    TW_SQL_IU_DAY,
    TW_SQL_IU_HOUR,
    TW_SQL_IU_MINUTE,
    TW_SQL_IU_SECOND,
} tw_sql_interval_unit;

typedef enum tw_sql_typed_lit_kind {
    TW_SQL_TL_TIMESTAMP,
    TW_SQL_TL_TIMESTAMPTZ,
    TW_SQL_TL_DATE,
} tw_sql_typed_lit_kind;

typedef enum tw_sql_is_kind {
    TW_SQL_IS_NULL,
    TW_SQL_IS_TRUE,
    TW_SQL_IS_FALSE,
    TW_SQL_IS_UNKNOWN,
    TW_SQL_IS_DISTINCT_FROM, /* rhs set */
} tw_sql_is_kind;

typedef struct tw_sql_case_when {
    tw_sql_expr *when;
    tw_sql_expr *then;
} tw_sql_case_when;

struct tw_sql_expr {
    tw_sql_expr_kind kind;
    uint32_t loc;
    union {
        int64_t int_lit;
        bool bool_lit;
        const char *text;
        struct {
            const char *text; /* as written, e.g. "1.50" */
            double value;
        } decimal;
        struct {
            const char *text;            /* the string, e.g. "10 seconds" or "5" */
            tw_sql_interval_unit unit;   /* INTERVAL '5' SECOND; NONE when absent */
            tw_sql_interval_unit to_unit; /* INTERVAL '1:30' HOUR TO MINUTE; else NONE */
        } interval;
        struct {
            tw_sql_typed_lit_kind type;
            const char *text;
        } typed;
        struct {
            const char *schema; /* NULL unless s.t.a */
            const char *table;  /* NULL unless t.a */
            const char *name;
        } column;
        struct {
            tw_sql_unary_op op;
            tw_sql_expr *arg;
        } unary;
        struct {
            tw_sql_binary_op op;
            tw_sql_expr *left;
            tw_sql_expr *right;
        } binary;
        struct {
            const char *schema; /* NULL unless written qualified */
            const char *name;   /* lowercased unless quoted */
            tw_sql_expr **args;
            uint32_t nargs;
            bool distinct; /* f(DISTINCT ...) */
            bool star;     /* count(*): nargs == 0 */
        } func;
        struct {
            tw_sql_expr *operand; /* CASE x WHEN ...; NULL for searched CASE */
            tw_sql_case_when *whens;
            uint32_t nwhens; /* >= 1 */
            tw_sql_expr *else_expr; /* NULL when absent */
        } case_;
        struct {
            tw_sql_expr *arg;
            tw_sql_type_ref type;
        } cast;
        struct {
            tw_sql_expr *arg;
            tw_sql_is_kind what;
            bool negated; /* IS NOT ... */
            tw_sql_expr *rhs; /* DISTINCT FROM only */
        } is;
        struct {
            tw_sql_expr *arg;
            tw_sql_expr *low;
            tw_sql_expr *high;
            bool negated;
        } between;
        struct {
            tw_sql_expr *arg;
            tw_sql_expr **items;
            uint32_t nitems; /* >= 1 */
            bool negated;
        } in;
        struct {
            tw_sql_expr *arg;
            tw_sql_expr *pattern;
            tw_sql_expr *escape; /* NULL when absent */
            bool negated;
            bool case_insensitive; /* ILIKE */
        } like;
        struct {
            const char *field; /* lowercased: "epoch", "hour", ... */
            tw_sql_expr *arg;
        } extract;
    } u;
};

/* ---- SELECT -------------------------------------------------------------- */

typedef enum tw_sql_select_item_kind {
    TW_SQL_SEL_EXPR,      /* expr [[AS] alias] */
    TW_SQL_SEL_STAR,      /* * */
    TW_SQL_SEL_QUAL_STAR, /* t.*: qualifier set */
} tw_sql_select_item_kind;

typedef struct tw_sql_select_item {
    tw_sql_select_item_kind kind;
    tw_sql_expr *expr;     /* EXPR only */
    const char *alias;     /* NULL when not given */
    const char *qualifier; /* QUAL_STAR only */
    uint32_t loc;
} tw_sql_select_item;

typedef enum tw_sql_from_kind {
    TW_SQL_FROM_REL,    /* name [[AS] alias] */
    TW_SQL_FROM_TUMBLE, /* TUMBLE(rel, time_col, size [, offset]) */
    TW_SQL_FROM_HOP,    /* HOP(rel, time_col, hop, size [, offset]) */
} tw_sql_from_kind;

typedef struct tw_sql_from {
    tw_sql_from_kind kind;
    tw_sql_name rel;
    const char *alias;     /* NULL when not given */
    tw_sql_expr *time_col; /* TUMBLE / HOP */
    tw_sql_expr *hop;      /* HOP: the slide */
    tw_sql_expr *size;     /* TUMBLE / HOP: the window size */
    tw_sql_expr *offset;   /* NULL when not given */
    uint32_t loc;
} tw_sql_from;

typedef enum tw_sql_nulls_order {
    TW_SQL_NULLS_DEFAULT = 0,
    TW_SQL_NULLS_FIRST,
    TW_SQL_NULLS_LAST,
} tw_sql_nulls_order;

typedef struct tw_sql_order_item {
    tw_sql_expr *expr; /* may be an output alias or a 1-based position */
    bool desc;
    tw_sql_nulls_order nulls;
    uint32_t loc;
} tw_sql_order_item;

struct tw_sql_select {
    tw_sql_select_item *items;
    uint32_t nitems; /* >= 1 */
    tw_sql_from *from; /* NULL for SELECT 1+1 */
    tw_sql_expr *where;  /* NULL when absent */
    tw_sql_expr **group_by;
    uint32_t ngroup_by;
    tw_sql_expr *having; /* NULL when absent */
    bool emit_on_window_close;
    tw_sql_order_item *order_by;
    uint32_t norder_by;
    bool has_limit; /* LIMIT ALL leaves it false */
    int64_t limit;  /* >= 0 */
    bool has_offset;
    int64_t offset; /* >= 0 */
    uint32_t loc;
};

/* ---- statements ---------------------------------------------------------- */

typedef struct tw_sql_column_def {
    const char *name;
    tw_sql_type_ref type;
    bool not_null;
    bool primary_key; /* written on the column */
    uint32_t loc;
} tw_sql_column_def;

typedef struct tw_sql_watermark {
    const char *column; /* WATERMARK FOR column AS expr */
    tw_sql_expr *expr;
    uint32_t loc;
} tw_sql_watermark;

/* CREATE SOURCE and CREATE TABLE. */
typedef struct tw_sql_create_source {
    tw_sql_name name;
    bool if_not_exists;
    bool is_table;
    tw_sql_column_def *columns;
    uint32_t ncolumns; /* 0 for CREATE SOURCE s WITH (...) FORMAT ... */
    tw_sql_watermark *watermark; /* NULL when absent */
    const char **primary_key;    /* table-level PRIMARY KEY (cols) */
    uint32_t nprimary_key;
    uint32_t primary_key_loc;
    tw_sql_options with;
    tw_sql_format format;
} tw_sql_create_source;

typedef struct tw_sql_create_mv {
    tw_sql_name name;
    bool if_not_exists;
    tw_sql_select *select;
    uint32_t select_start; /* byte span of the SELECT text */
    uint32_t select_end;
} tw_sql_create_mv;

typedef struct tw_sql_create_connection {
    tw_sql_name name;
    bool if_not_exists;
    tw_sql_options with;
} tw_sql_create_connection;

/* CREATE SINK name FROM rel WITH (...) or CREATE SINK name AS select WITH (...). */
typedef struct tw_sql_create_sink {
    tw_sql_name name;
    bool if_not_exists;
    bool has_from;
    tw_sql_name from;       /* has_from */
    tw_sql_select *select;  /* !has_from */
    tw_sql_options with;
    tw_sql_format format;
} tw_sql_create_sink;

typedef enum tw_sql_object_kind {
    TW_SQL_OBJ_SOURCE,
    TW_SQL_OBJ_TABLE,
    TW_SQL_OBJ_MATERIALIZED_VIEW,
    TW_SQL_OBJ_VIEW,
    TW_SQL_OBJ_SINK,
    TW_SQL_OBJ_CONNECTION,
} tw_sql_object_kind;

typedef struct tw_sql_drop {
    tw_sql_object_kind object;
    tw_sql_name name;
    bool if_exists;
    bool cascade; /* CASCADE; RESTRICT and nothing leave it false */
} tw_sql_drop;

typedef enum tw_sql_show_kind {
    TW_SQL_SHOW_SOURCES,
    TW_SQL_SHOW_MATERIALIZED_VIEWS,
    TW_SQL_SHOW_SINKS,
    TW_SQL_SHOW_CONNECTIONS,
    TW_SQL_SHOW_TABLES,
    TW_SQL_SHOW_PARAM, /* SHOW name: param */
} tw_sql_show_kind;

typedef struct tw_sql_show {
    tw_sql_show_kind what;
    const char *param; /* SHOW_PARAM only, lowercased, dotted */
} tw_sql_show;

typedef struct tw_sql_describe {
    tw_sql_name name;
} tw_sql_describe;

/* SET name {= | TO} value. SET TIME ZONE v is stored as name "timezone". */
typedef struct tw_sql_set {
    const char *name; /* lowercased, dotted */
    const char *value;
    tw_sql_value_kind kind; /* DEFAULT is an IDENT "default" */
    uint32_t value_loc;
} tw_sql_set;

typedef enum tw_sql_stmt_kind {
    TW_SQL_STMT_CREATE_SOURCE, /* also CREATE TABLE: u.create_source->is_table */
    TW_SQL_STMT_CREATE_MV,
    TW_SQL_STMT_CREATE_CONNECTION,
    TW_SQL_STMT_CREATE_SINK,
    TW_SQL_STMT_DROP,
    TW_SQL_STMT_SELECT,
    TW_SQL_STMT_SHOW,
    TW_SQL_STMT_DESCRIBE,
    TW_SQL_STMT_SET,
} tw_sql_stmt_kind;

typedef struct tw_sql_stmt {
    tw_sql_stmt_kind kind;
    uint32_t start; /* [start, end): the statement's text, without the ';' */
    uint32_t end;
    union {
        tw_sql_create_source *create_source;
        tw_sql_create_mv *create_mv;
        tw_sql_create_connection *create_connection;
        tw_sql_create_sink *create_sink;
        tw_sql_drop *drop;
        tw_sql_select *select;
        tw_sql_show *show;
        tw_sql_describe *describe;
        tw_sql_set *set;
    } u;
} tw_sql_stmt;

typedef struct tw_sql_script {
    tw_sql_stmt *stmts;
    uint32_t nstmts;
    /* The parsed text and its name, not copied: kept so that later stages
     * can call tw_sql_error_at with a node's loc. */
    const char *text;
    size_t len;
    const char *filename;
} tw_sql_script;

/* Names for messages: "CREATE SOURCE", "SOURCE", "MATERIALIZED VIEW", ... */
const char *tw_sql_stmt_kind_name(tw_sql_stmt_kind kind);
const char *tw_sql_object_kind_name(tw_sql_object_kind kind);
/* Operator as written: "OR", "+", "||", "<>", ... */
const char *tw_sql_binary_op_name(tw_sql_binary_op op);

#endif
