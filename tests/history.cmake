# The anomaly history read back from Iceberg (src/serve/history.c and the
# Parquet reader): tests/integration/api_history.mjs runs tidewatch twice
# over one table (history, then a live run with other windows) and checks
# /api/anomalies, the CSV export and the summary against the expected merge;
# it also reads DuckDB's COPY ... (FORMAT parquet) files with parquet_dump.
# Included from tests/integration.cmake; CMAKE_CURRENT_SOURCE_DIR is tests/.
find_program(TW_NODE node REQUIRED)

add_executable(parquet_dump ${CMAKE_CURRENT_SOURCE_DIR}/tools/parquet_dump.c)
target_compile_options(parquet_dump PRIVATE ${TW_WARNINGS})
target_link_libraries(parquet_dump PRIVATE tw_core)

add_test(NAME integration.api_history
  COMMAND ${TW_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/api_history.mjs
    --bin $<TARGET_FILE:tidewatch> --dump $<TARGET_FILE:parquet_dump>
    --workdir ${CMAKE_CURRENT_BINARY_DIR}/api-history-out)
set_tests_properties(integration.api_history PROPERTIES TIMEOUT 120 LABELS "serve;iceberg")
