# The PostgreSQL protocol: the libpq client test tool, psql running the seed
# SQL, a restart that must keep the pipeline and its results, and the fuzz
# corpus replayed through the protocol parser (under ASan+UBSan when the
# sanitizer build is on). Included from tests/integration.cmake, so
# CMAKE_CURRENT_SOURCE_DIR is tests/.
find_program(TW_PSQL psql)
find_program(TW_KCAT kcat)

add_executable(pg_client ${CMAKE_CURRENT_SOURCE_DIR}/tools/pg_client.c)
target_compile_options(pg_client PRIVATE ${TW_WARNINGS})
target_link_libraries(pg_client PRIVATE PkgConfig::TW_DEPS)

if(TW_SANITIZERS)
  set(TW_FUZZ_CORE tw_core_san)
else()
  set(TW_FUZZ_CORE tw_core)
endif()
add_executable(fuzz_pgwire_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_pgwire.c)
target_compile_definitions(fuzz_pgwire_replay PRIVATE TW_FUZZ_REPLAY)
target_compile_options(fuzz_pgwire_replay PRIVATE ${TW_WARNINGS})
target_link_libraries(fuzz_pgwire_replay PRIVATE ${TW_FUZZ_CORE})
add_test(NAME fuzz.pgwire_corpus
  COMMAND fuzz_pgwire_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/pgwire)
set_tests_properties(fuzz.pgwire_corpus PROPERTIES TIMEOUT 60 LABELS pgwire
  ENVIRONMENT "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1;ASAN_OPTIONS=detect_leaks=1")

if(TW_PSQL)
  add_test(NAME integration.pgwire_seed
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pgwire_seed.sh $<TARGET_FILE:tidewatch>
      $<TARGET_FILE:pg_client> ${CMAKE_CURRENT_SOURCE_DIR}/data/sql/seed.sql)
  set_tests_properties(integration.pgwire_seed PROPERTIES TIMEOUT 120 LABELS pgwire)
  # The pipeline created over psql survives a restart: Kafka source,
  # Iceberg rows against a batch run, no loss and no duplicate.
  add_test(NAME integration.pgwire_restart
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pgwire_restart.sh $<TARGET_FILE:tidewatch>
      $<TARGET_FILE:kafka_mock> ${CMAKE_CURRENT_SOURCE_DIR}/data/sql/seed.sql ${TW_NODE}
      ${CMAKE_SOURCE_DIR})
  set_tests_properties(integration.pgwire_restart PROPERTIES TIMEOUT 150 LABELS pgwire)
else()
  message(WARNING "psql not found: the pgwire integration tests are not registered "
                  "(scripts/deps.sh installs postgresql)")
endif()

# Backfill over psql: network_anomalies dropped and re-created with another
# threshold while serve runs holds the oracle's rows at once, follows later
# input exactly, and its sinks write each closed window once.
if(TW_PSQL)
  add_test(NAME integration.pgwire_backfill
    COMMAND ${TW_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/pgwire_backfill.mjs
      --bin $<TARGET_FILE:tidewatch> --psql ${TW_PSQL}
      --workdir ${CMAKE_CURRENT_BINARY_DIR}/pgwire-out/backfill)
  set_tests_properties(integration.pgwire_backfill PROPERTIES TIMEOUT 120 LABELS pgwire)
  if(TW_SANITIZERS)
    add_test(NAME san.integration.pgwire_backfill
      COMMAND ${TW_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/pgwire_backfill.mjs
        --bin $<TARGET_FILE:tidewatch_san> --psql ${TW_PSQL}
        --workdir ${CMAKE_CURRENT_BINARY_DIR}/pgwire-out/backfill-san)
    set_tests_properties(san.integration.pgwire_backfill PROPERTIES TIMEOUT 180 LABELS pgwire
      ENVIRONMENT "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1;ASAN_OPTIONS=detect_leaks=1")
  endif()
endif()
