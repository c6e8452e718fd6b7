# Kafka integration tests: each starts its own librdkafka mock cluster with
# tests/tools/kafka_mock and uses kcat (Debian package kcat) as the
# independent producer and consumer. Included from tests/integration.cmake,
# so CMAKE_CURRENT_SOURCE_DIR is tests/.
find_program(TW_KCAT kcat)
find_program(TW_NODE node REQUIRED)
add_executable(kafka_mock ${CMAKE_CURRENT_SOURCE_DIR}/tools/kafka_mock.c)
target_compile_options(kafka_mock PRIVATE ${TW_WARNINGS})
target_link_libraries(kafka_mock PRIVATE PkgConfig::TW_DEPS)

if(NOT TW_KCAT)
  message(WARNING "kcat not found: the Kafka integration tests are not registered (apt-get install kcat)")
  return()
endif()

set(TW_KAFKA_DIR ${CMAKE_CURRENT_SOURCE_DIR}/integration)
set(TW_KAFKA_SAN_ENV "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1;ASAN_OPTIONS=detect_leaks=1")

add_test(NAME kafka.seed COMMAND ${TW_KAFKA_DIR}/kafka_seed.sh $<TARGET_FILE:tidewatch>
  $<TARGET_FILE:kafka_mock> ${CMAKE_CURRENT_SOURCE_DIR}/data/sql/seed.sql 200000)
add_test(NAME kafka.gen COMMAND ${TW_KAFKA_DIR}/kafka_gen.sh $<TARGET_FILE:tidewatch>
  $<TARGET_FILE:kafka_mock> ${TW_NODE})
add_test(NAME kafka.group COMMAND ${TW_KAFKA_DIR}/kafka_group.sh $<TARGET_FILE:tidewatch>
  $<TARGET_FILE:kafka_mock>)
add_test(NAME kafka.faults COMMAND ${TW_KAFKA_DIR}/kafka_faults.sh $<TARGET_FILE:tidewatch>
  $<TARGET_FILE:kafka_mock>)
set_tests_properties(kafka.seed kafka.gen kafka.group kafka.faults PROPERTIES TIMEOUT 120 LABELS kafka)
if(TW_SANITIZERS)
  add_test(NAME san.kafka.seed COMMAND ${TW_KAFKA_DIR}/kafka_seed.sh $<TARGET_FILE:tidewatch_san>
    $<TARGET_FILE:kafka_mock> ${CMAKE_CURRENT_SOURCE_DIR}/data/sql/seed.sql 20000)
  set_tests_properties(san.kafka.seed PROPERTIES TIMEOUT 180 LABELS kafka
    ENVIRONMENT "${TW_KAFKA_SAN_ENV}")
endif()
