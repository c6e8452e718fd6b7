# Iceberg table writer: the tool that builds tables through the table API
# (tests/tools/iceberg_write.c) and the readers that check them
# (tests/integration/iceberg_read.mjs: avsc, icebird, DuckDB). Included from
# tests/integration.cmake, so CMAKE_CURRENT_SOURCE_DIR is tests/.
find_program(TW_NODE node REQUIRED)

add_executable(iceberg_write ${CMAKE_CURRENT_SOURCE_DIR}/tools/iceberg_write.c)
target_compile_options(iceberg_write PRIVATE ${TW_WARNINGS})
target_link_libraries(iceberg_write PRIVATE tw_core)

add_test(NAME integration.iceberg_read
  COMMAND ${TW_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/iceberg_read.mjs
    --tool $<TARGET_FILE:iceberg_write> --workdir ${CMAKE_CURRENT_BINARY_DIR}/iceberg-out)
set_tests_properties(integration.iceberg_read PROPERTIES TIMEOUT 120 LABELS iceberg)
