# The DuckDB oracle (tests/oracle) and the bad-input test (tests/integration/
# badinput.mjs): node scripts that run tidewatch and compare it with DuckDB.
# Included from tests/integration.cmake, so CMAKE_CURRENT_SOURCE_DIR is tests/.
# Each case runs against the plain binary (oracle.<case>) and, with smaller
# inputs, against the ASan+UBSan binary (san.oracle.<case>).
find_program(TW_NODE node REQUIRED)

set(TW_ORACLE_CASES seed hop aggs nulls wrongtypes outoforder filter multikey watermark chain)
set(TW_ORACLE_OUT ${CMAKE_CURRENT_BINARY_DIR}/oracle-out)
set(TW_SAN_ENV "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1;ASAN_OPTIONS=detect_leaks=1")

foreach(case ${TW_ORACLE_CASES})
  add_test(NAME oracle.${case}
    COMMAND ${TW_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/oracle/oracle.mjs
      --bin $<TARGET_FILE:tidewatch> --case ${case} --scale full --workdir ${TW_ORACLE_OUT})
  set_tests_properties(oracle.${case} PROPERTIES TIMEOUT 240 LABELS oracle)
  if(TW_SANITIZERS)
    add_test(NAME san.oracle.${case}
      COMMAND ${TW_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/oracle/oracle.mjs
        --bin $<TARGET_FILE:tidewatch_san> --case ${case} --scale san --workdir ${TW_ORACLE_OUT})
    set_tests_properties(san.oracle.${case} PROPERTIES TIMEOUT 300 LABELS oracle
      ENVIRONMENT "${TW_SAN_ENV}")
  endif()
endforeach()

add_test(NAME integration.badinput
  COMMAND ${TW_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/badinput.mjs
    --bin $<TARGET_FILE:tidewatch> --scale full --workdir ${TW_ORACLE_OUT})
set_tests_properties(integration.badinput PROPERTIES TIMEOUT 240 LABELS oracle)
if(TW_SANITIZERS)
  add_test(NAME san.integration.badinput
    COMMAND ${TW_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/badinput.mjs
      --bin $<TARGET_FILE:tidewatch_san> --scale san --workdir ${TW_ORACLE_OUT})
  set_tests_properties(san.integration.badinput PROPERTIES TIMEOUT 300 LABELS oracle
    ENVIRONMENT "${TW_SAN_ENV}")
endif()
