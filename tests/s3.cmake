# S3 file IO: the tool that drives it (tests/tools/s3_tool.c) and the tests
# against s3rver behind a SigV4-verifying, fault-injecting proxy
# (tests/integration/s3_server.mjs), checked with the AWS CLI; and the seed
# pipeline writing its Iceberg table into S3, read back by icebird over HTTP.
# Included from tests/integration.cmake; CMAKE_CURRENT_SOURCE_DIR is tests/.
find_program(TW_NODE node REQUIRED)
set(TW_S3_JS ${CMAKE_CURRENT_SOURCE_DIR}/integration)
set(TW_S3_OUT ${CMAKE_CURRENT_BINARY_DIR}/s3-out)

add_executable(s3_tool ${CMAKE_CURRENT_SOURCE_DIR}/tools/s3_tool.c)
target_compile_options(s3_tool PRIVATE ${TW_WARNINGS})
target_link_libraries(s3_tool PRIVATE tw_core)

add_test(NAME integration.s3_fileio
  COMMAND ${TW_NODE} ${TW_S3_JS}/s3_fileio.mjs --tool $<TARGET_FILE:s3_tool> --workdir ${TW_S3_OUT}/fileio)
add_test(NAME integration.s3_faults
  COMMAND ${TW_NODE} ${TW_S3_JS}/s3_faults.mjs --tool $<TARGET_FILE:s3_tool> --workdir ${TW_S3_OUT}/faults)
add_test(NAME integration.s3_sink
  COMMAND ${TW_NODE} ${TW_S3_JS}/s3_sink.mjs --bin $<TARGET_FILE:tidewatch> --count 200000
    --workdir ${TW_S3_OUT}/sink)
add_test(NAME integration.s3_sink_faults
  COMMAND ${TW_NODE} ${TW_S3_JS}/s3_sink.mjs --bin $<TARGET_FILE:tidewatch> --count 200000
    --fault-rate 0.1 --pause-ms 20000 --workdir ${TW_S3_OUT}/sink_faults)
set_tests_properties(integration.s3_fileio integration.s3_faults integration.s3_sink
  integration.s3_sink_faults PROPERTIES TIMEOUT 180 LABELS s3)
