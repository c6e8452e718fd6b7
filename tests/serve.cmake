# The HTTP API (tests/integration/api_*.mjs) and the dashboard in a real
# browser (tests/e2e, playwright-core driving Debian's chromium). Included
# from tests/integration.cmake, so CMAKE_CURRENT_SOURCE_DIR is tests/.
find_program(TW_NODE node REQUIRED)

foreach(name anomalies auth)
  add_test(NAME integration.api_${name}
    COMMAND ${TW_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/api_${name}.mjs
      --bin $<TARGET_FILE:tidewatch>)
  set_tests_properties(integration.api_${name} PROPERTIES TIMEOUT 120 LABELS serve)
endforeach()

# The API following views created and dropped over psql while serving.
find_program(TW_PSQL psql)
if(TW_PSQL)
  add_test(NAME integration.api_catalog
    COMMAND ${TW_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/api_catalog.mjs
      --bin $<TARGET_FILE:tidewatch> --psql ${TW_PSQL})
  set_tests_properties(integration.api_catalog PROPERTIES TIMEOUT 120 LABELS "serve;pgwire")
else()
  message(WARNING "psql not found: integration.api_catalog is not registered "
                  "(scripts/deps.sh installs postgresql)")
endif()

find_program(TW_CHROMIUM NAMES chromium chromium-browser)
if(TW_CHROMIUM)
  add_test(NAME e2e.dashboard
    COMMAND ${TW_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/dashboard.mjs
      --bin $<TARGET_FILE:tidewatch> --chromium ${TW_CHROMIUM}
      --out ${CMAKE_CURRENT_BINARY_DIR}/e2e-out)
  set_tests_properties(e2e.dashboard PROPERTIES TIMEOUT 180 LABELS "serve;e2e")
  if(TW_PSQL)
    # The page following views and rules created over psql while it is open.
    add_test(NAME e2e.dashboard_rules
      COMMAND ${TW_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/dashboard_rules.mjs
        --bin $<TARGET_FILE:tidewatch> --chromium ${TW_CHROMIUM} --psql ${TW_PSQL}
        --out ${CMAKE_CURRENT_BINARY_DIR}/e2e-out)
    set_tests_properties(e2e.dashboard_rules PROPERTIES TIMEOUT 120 LABELS "serve;e2e;pgwire")
  endif()
else()
  message(WARNING "chromium not found: the dashboard's browser test is not registered "
                  "(scripts/deps.sh installs it)")
endif()
