# The SQL catalog's integration tests: catalog_tool (a command line over
# iceberg/catalog.h) driven by tests/integration/catalog_pg.sh, on a SQLite
# file and on a throwaway PostgreSQL server (scripts/pg_test_server.sh).
# Included from tests/integration.cmake; CMAKE_CURRENT_SOURCE_DIR is tests/.
add_executable(catalog_tool ${CMAKE_CURRENT_SOURCE_DIR}/tools/catalog_tool.c)
target_compile_options(catalog_tool PRIVATE ${TW_WARNINGS})
target_link_libraries(catalog_tool PRIVATE tw_core)

add_test(NAME integration.catalog_sqlite
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/catalog_pg.sh $<TARGET_FILE:catalog_tool> sqlite)
add_test(NAME integration.catalog_pg
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/catalog_pg.sh $<TARGET_FILE:catalog_tool> pg
          ${CMAKE_SOURCE_DIR}/scripts/pg_test_server.sh)
set_tests_properties(integration.catalog_sqlite integration.catalog_pg PROPERTIES TIMEOUT 120)
