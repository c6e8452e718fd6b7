# Integration tests: each runs the built tidewatch binary against real
# components the test starts itself (DuckDB, a Kafka mock cluster,
# PostgreSQL, Chromium, ...). One fragment per area.
add_test(NAME integration.gen COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/gen.sh $<TARGET_FILE:tidewatch>)
add_test(NAME integration.cli_options COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/cli_options.sh $<TARGET_FILE:tidewatch>)
include(${CMAKE_CURRENT_SOURCE_DIR}/oracle.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/parquet.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/catalog.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/iceberg.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/serve.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/kafka.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/sink.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/rest.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/history.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/s3.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/pgwire.cmake)
