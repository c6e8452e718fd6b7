# The Parquet writer's DuckDB test (tests/integration/parquet_duckdb.mjs) and
# the tool it runs (tests/tools/parquet_write.c, also used by
# bench/parquet_bench.mjs). Included from tests/integration.cmake, so
# CMAKE_CURRENT_SOURCE_DIR is tests/.
find_program(TW_NODE node REQUIRED)

add_executable(parquet_write ${CMAKE_CURRENT_SOURCE_DIR}/tools/parquet_write.c)
target_compile_options(parquet_write PRIVATE ${TW_WARNINGS})
target_link_libraries(parquet_write PRIVATE tw_core)

add_test(NAME integration.parquet_duckdb
  COMMAND ${TW_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/parquet_duckdb.mjs
    --tool $<TARGET_FILE:parquet_write> --workdir ${CMAKE_CURRENT_BINARY_DIR}/parquet-out)
set_tests_properties(integration.parquet_duckdb PROPERTIES TIMEOUT 300 LABELS parquet)
