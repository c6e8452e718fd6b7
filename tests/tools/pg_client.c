/* pg_client.c - libpq against tidewatch's PostgreSQL server: prepared
 * statements with text parameters, PQexecParams, error fields.
 *
 *   pg_client "host=127.0.0.1 port=4566 dbname=dev user=root"
 *
 * Expects the seed pipeline with rows in network_anomalies. Prints one line
 * per check and exits 1 on the first failure. With a second argument
 * "password", only checks that connecting works (SCRAM) and exits. */
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            printf("ok   ");                                                                       \
        } else {                                                                                   \
            printf("FAIL ");                                                                       \
            failures++;                                                                            \
        }                                                                                          \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
    } while (0)

static const char *field(const PGresult *r, int code)
{
    const char *v = PQresultErrorField(r, code);
    return v ? v : "";
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: pg_client CONNINFO [password]\n");
        return 2;
    }
    PGconn *c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK) {
        printf("FAIL connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return 1;
    }
    CHECK(atoi(PQparameterStatus(c, "server_version") ? PQparameterStatus(c, "server_version")
                                                        : "0") >= 13,
          "server_version %s", PQparameterStatus(c, "server_version"));
    if (argc > 2 && !strcmp(argv[2], "password")) {
        PGresult *r = PQexec(c, "SELECT 1");
        CHECK(PQresultStatus(r) == PGRES_TUPLES_OK, "query after SCRAM");
        PQclear(r);
        PQfinish(c);
        return failures ? 1 : 0;
    }

    /* PQexecParams: a typed parameter and an untyped one. */
    const char *vals[2] = {"router-01", "0"};
    Oid types[2] = {0, 701};
    PGresult *r = PQexecParams(c,
                               "SELECT device_id, window_start, avg_latency_ms, total_flow_bytes "
                               "FROM device_metrics_10s WHERE device_id = $1 AND avg_latency_ms > "
                               "$2 ORDER BY window_start",
                               2, types, vals, NULL, NULL, 0);
    CHECK(PQresultStatus(r) == PGRES_TUPLES_OK, "PQexecParams: %s", PQresultErrorMessage(r));
    int rows = PQntuples(r);
    CHECK(rows > 0, "PQexecParams returned %d rows", rows);
    CHECK(PQnfields(r) == 4 && PQftype(r, 0) == 1043 && PQftype(r, 1) == 1114 &&
              PQftype(r, 2) == 701 && PQftype(r, 3) == 20,
          "type OIDs varchar/timestamp/float8/int8 (%u %u %u %u)", PQftype(r, 0), PQftype(r, 1),
          PQftype(r, 2), PQftype(r, 3));
    bool all_router = true;
    for (int i = 0; i < rows; i++)
        all_router &= !strcmp(PQgetvalue(r, i, 0), "router-01");
    CHECK(all_router, "the parameter filtered the rows");
    CHECK(rows == 0 || (strlen(PQgetvalue(r, 0, 1)) >= 19 && PQgetvalue(r, 0, 1)[10] == ' '),
          "timestamp in PostgreSQL text format: '%s'", rows ? PQgetvalue(r, 0, 1) : "");
    PQclear(r);

    /* An untyped LIMIT parameter, and a boolean column. */
    const char *one[1] = {"1"};
    r = PQexecParams(c, "SELECT is_high_latency FROM network_anomalies LIMIT $1", 1, NULL, one,
                     NULL, NULL, 0);
    CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQftype(r, 0) == 16 &&
              (!strcmp(PQgetvalue(r, 0, 0), "t") || !strcmp(PQgetvalue(r, 0, 0), "f")),
          "LIMIT $1 and a bool column: %s", PQresultErrorMessage(r));
    PQclear(r);

    /* A quote in a parameter stays inside the literal. */
    const char *evil[1] = {"x' OR 'a' = 'a"};
    r = PQexecParams(c, "SELECT device_id FROM device_metrics_10s WHERE device_id = $1", 1, NULL,
                     evil, NULL, NULL, 0);
    CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 0,
          "a quoted parameter matches nothing (%d rows) %s", PQntuples(r), PQresultErrorMessage(r));
    PQclear(r);

    /* PQprepare once, PQexecPrepared twice with different values. */
    r = PQprepare(c, "by_device",
                  "SELECT count(*) AS n FROM device_metrics_10s WHERE device_id = $1", 1, NULL);
    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK, "PQprepare: %s", PQresultErrorMessage(r));
    PQclear(r);
    long total = 0;
    const char *devices[] = {"router-01", "server-02"};
    for (int i = 0; i < 2; i++) {
        r = PQexecPrepared(c, "by_device", 1, &devices[i], NULL, NULL, 0);
        CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQftype(r, 0) == 20,
              "PQexecPrepared(%s): %s", devices[i], PQresultErrorMessage(r));
        if (PQntuples(r) == 1)
            total += atol(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    CHECK(total > 0, "prepared counts add up to %ld", total);
    r = PQdescribePrepared(c, "by_device");
    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK && PQnparams(r) == 1 && PQnfields(r) == 1 &&
              !strcmp(PQfname(r, 0), "n"),
          "PQdescribePrepared: %d params, %d fields", PQnparams(r), PQnfields(r));
    PQclear(r);

    /* Wrong parameter count, and an unknown prepared statement. */
    r = PQexecPrepared(c, "by_device", 0, NULL, NULL, NULL, 0);
    CHECK(PQresultStatus(r) == PGRES_FATAL_ERROR &&
              !strcmp(field(r, PG_DIAG_SQLSTATE), "08P01"),
          "missing parameter: %s %s", field(r, PG_DIAG_SQLSTATE), PQresultErrorMessage(r));
    PQclear(r);
    r = PQexecPrepared(c, "nope", 0, NULL, NULL, NULL, 0);
    CHECK(!strcmp(field(r, PG_DIAG_SQLSTATE), "26000"), "unknown statement: %s",
          field(r, PG_DIAG_SQLSTATE));
    PQclear(r);

    /* Errors carry SQLSTATE and a 1-based character position. */
    r = PQexec(c, "SELECT nope FROM device_metrics_10s");
    CHECK(!strcmp(field(r, PG_DIAG_SQLSTATE), "42703") &&
              !strcmp(field(r, PG_DIAG_STATEMENT_POSITION), "8"),
          "unknown column: %s at %s", field(r, PG_DIAG_SQLSTATE),
          field(r, PG_DIAG_STATEMENT_POSITION));
    PQclear(r);
    r = PQexec(c, "SELECT 1; SELECT * FROM missing_table");
    CHECK(!strcmp(field(r, PG_DIAG_SQLSTATE), "42P01") &&
              !strcmp(field(r, PG_DIAG_STATEMENT_POSITION), "25"),
          "unknown table in the second statement: %s at %s", field(r, PG_DIAG_SQLSTATE),
          field(r, PG_DIAG_STATEMENT_POSITION));
    PQclear(r);

    /* The session still works after errors. */
    r = PQexec(c, "SHOW MATERIALIZED VIEWS");
    CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 2, "SHOW after errors: %d rows",
          PQntuples(r));
    PQclear(r);
    PQfinish(c);
    return failures ? 1 : 0;
}
