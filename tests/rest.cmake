# The seed pipeline through a REST catalog (tests/integration/rest_catalog.mjs)
# against tests/tools/rest_catalog_server.mjs, which validates every request
# and response against the Iceberg REST OpenAPI contract: the seed's
# connection, injected 500s and 409s on commits, two concurrent writers, and
# OAuth2 client credentials with expiring tokens. And the same catalog in
# its S3 mode (Lakekeeper's layout) in front of the test S3 server
# (tests/integration/rest_s3.mjs): the seed's SQL with only hosts and ports
# changed, and connections whose S3 settings and keys the catalog vends
# (in the table config, or in storage-credentials, or renewed at every
# load). Included from
# tests/integration.cmake; CMAKE_CURRENT_SOURCE_DIR is tests/.
find_program(TW_NODE node REQUIRED)
set(TW_REST_SPEC ${CMAKE_CURRENT_SOURCE_DIR}/data/specs/iceberg-rest-catalog-open-api.yaml)
set(TW_REST_OUT ${CMAKE_CURRENT_BINARY_DIR}/rest-catalog-out)

foreach(scenario seed faults writers oauth)
  add_test(NAME integration.rest_catalog_${scenario}
    COMMAND ${TW_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/rest_catalog.mjs
      --bin $<TARGET_FILE:tidewatch> --server ${CMAKE_CURRENT_SOURCE_DIR}/tools/rest_catalog_server.mjs
      --spec ${TW_REST_SPEC} --scenario ${scenario} --count 200000 --workdir ${TW_REST_OUT}/${scenario})
  set_tests_properties(integration.rest_catalog_${scenario} PROPERTIES TIMEOUT 120 LABELS "iceberg;rest")
endforeach()

foreach(scenario seed vended storage rotate)
  add_test(NAME integration.rest_s3_${scenario}
    COMMAND ${TW_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/rest_s3.mjs
      --bin $<TARGET_FILE:tidewatch> --server ${CMAKE_CURRENT_SOURCE_DIR}/tools/rest_catalog_server.mjs
      --spec ${TW_REST_SPEC} --scenario ${scenario} --count 200000 --workdir ${TW_REST_OUT}/s3_${scenario})
  set_tests_properties(integration.rest_s3_${scenario} PROPERTIES TIMEOUT 120 LABELS "iceberg;rest;s3")
endforeach()

if(TW_SANITIZERS)
  add_test(NAME san.integration.rest_s3_rotate
    COMMAND ${TW_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/rest_s3.mjs
      --bin $<TARGET_FILE:tidewatch_san> --server ${CMAKE_CURRENT_SOURCE_DIR}/tools/rest_catalog_server.mjs
      --spec ${TW_REST_SPEC} --scenario rotate --count 200000 --workdir ${TW_REST_OUT}/san_s3_rotate)
  set_tests_properties(san.integration.rest_s3_rotate PROPERTIES TIMEOUT 180 LABELS "iceberg;rest;s3"
    ENVIRONMENT "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1;ASAN_OPTIONS=detect_leaks=1")

  add_test(NAME san.integration.rest_catalog_faults
    COMMAND ${TW_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/rest_catalog.mjs
      --bin $<TARGET_FILE:tidewatch_san> --server ${CMAKE_CURRENT_SOURCE_DIR}/tools/rest_catalog_server.mjs
      --spec ${TW_REST_SPEC} --scenario faults --count 200000 --workdir ${TW_REST_OUT}/san_faults)
  set_tests_properties(san.integration.rest_catalog_faults PROPERTIES TIMEOUT 180 LABELS "iceberg;rest"
    ENVIRONMENT "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1;ASAN_OPTIONS=detect_leaks=1")
endif()
