# End-to-end tests of the Iceberg sink through the tidewatch binary
# (tests/integration/iceberg_sink_*.mjs): the seed pipeline into SQLite and
# PostgreSQL catalogs read back by icebird, DuckDB and avsc against the DuckDB
# oracle; two writers on one table; kill -9 and restart; upsert with equality
# deletes. Included from tests/integration.cmake; CMAKE_CURRENT_SOURCE_DIR is
# tests/.
find_program(TW_NODE node REQUIRED)
set(TW_SINK_OUT ${CMAKE_CURRENT_BINARY_DIR}/iceberg-sink-out)
set(TW_SINK_JS ${CMAKE_CURRENT_SOURCE_DIR}/integration)

add_test(NAME integration.iceberg_sink_sqlite
  COMMAND ${TW_NODE} ${TW_SINK_JS}/iceberg_sink_sqlite.mjs --bin $<TARGET_FILE:tidewatch>
    --count 200000 --workdir ${TW_SINK_OUT}/sqlite)
add_test(NAME integration.iceberg_sink_sqlite_commits
  COMMAND ${TW_NODE} ${TW_SINK_JS}/iceberg_sink_sqlite.mjs --bin $<TARGET_FILE:tidewatch>
    --count 200000 --commit-every 1 --barrier-interval 5 --workdir ${TW_SINK_OUT}/sqlite_commits)
add_test(NAME integration.iceberg_sink_relpath
  COMMAND ${TW_NODE} ${TW_SINK_JS}/iceberg_sink_sqlite.mjs --bin $<TARGET_FILE:tidewatch>
    --count 20000 --relative 1 --workdir ${TW_SINK_OUT}/relpath)
add_test(NAME integration.iceberg_sink_pg
  COMMAND ${TW_NODE} ${TW_SINK_JS}/iceberg_sink_pg.mjs --bin $<TARGET_FILE:tidewatch>
    --pg-server ${CMAKE_SOURCE_DIR}/scripts/pg_test_server.sh --count 200000 --workdir ${TW_SINK_OUT}/pg)
add_test(NAME integration.iceberg_sink_crash
  COMMAND ${TW_NODE} ${TW_SINK_JS}/iceberg_sink_crash.mjs --bin $<TARGET_FILE:tidewatch>
    --count 2000000 --seed 1 --workdir ${TW_SINK_OUT}/crash)
add_test(NAME integration.iceberg_sink_crash_kafka
  COMMAND ${TW_NODE} ${TW_SINK_JS}/iceberg_sink_crash.mjs --bin $<TARGET_FILE:tidewatch>
    --count 60000 --seed 2 --workdir ${TW_SINK_OUT}/crash_kafka
    --kafka-mock $<TARGET_FILE:kafka_mock>)
add_test(NAME integration.iceberg_sink_upsert
  COMMAND ${TW_NODE} ${TW_SINK_JS}/iceberg_sink_upsert.mjs --bin $<TARGET_FILE:tidewatch>
    --count 100000 --workdir ${TW_SINK_OUT}/upsert)
add_test(NAME integration.iceberg_sink_shared
  COMMAND ${TW_NODE} ${TW_SINK_JS}/iceberg_sink_shared.mjs --bin $<TARGET_FILE:tidewatch>
    --count 50000 --workdir ${TW_SINK_OUT}/shared)
set_tests_properties(integration.iceberg_sink_sqlite integration.iceberg_sink_sqlite_commits
  integration.iceberg_sink_relpath integration.iceberg_sink_pg integration.iceberg_sink_crash
  integration.iceberg_sink_crash_kafka
  integration.iceberg_sink_upsert integration.iceberg_sink_shared PROPERTIES TIMEOUT 120 LABELS iceberg)

if(TW_SANITIZERS)
  add_test(NAME san.integration.iceberg_sink_sqlite
    COMMAND ${TW_NODE} ${TW_SINK_JS}/iceberg_sink_sqlite.mjs --bin $<TARGET_FILE:tidewatch_san>
      --count 20000 --workdir ${TW_SINK_OUT}/san_sqlite)
  add_test(NAME san.integration.iceberg_sink_sqlite_commits
    COMMAND ${TW_NODE} ${TW_SINK_JS}/iceberg_sink_sqlite.mjs --bin $<TARGET_FILE:tidewatch_san>
      --count 100000 --commit-every 1 --barrier-interval 1 --workdir ${TW_SINK_OUT}/san_sqlite_commits)
  set_tests_properties(san.integration.iceberg_sink_sqlite san.integration.iceberg_sink_sqlite_commits
    PROPERTIES TIMEOUT 120 LABELS iceberg
    ENVIRONMENT "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1;ASAN_OPTIONS=detect_leaks=1")
endif()
