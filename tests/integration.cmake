# Integration tests (shell): each runs the built tidewatch binary.
add_test(NAME integration.gen COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/gen.sh $<TARGET_FILE:tidewatch>)
include(${CMAKE_CURRENT_SOURCE_DIR}/oracle.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/kafka.cmake)
