# A device lost in the middle of `plinth embed` or `plinth generate` ends the command with exit
# status 1 and one error line naming DEVICE_LOST: never a signal. (The clean-up after the error used
# to free buffers that queued work still used; the Vulkan plugin then ran that work and crashed.)
#   cmake -DPLINTH=<plinth executable> -DDEVICE=<device id> -P device_lost_cli_test.cmake
# The loss comes after N op launches, injected by the core (PLINTH_FAULT=device_lost:N: the plugin is
# not told and keeps running what was queued) or by the plugin's own test hook
# (PLINTH_PLUGIN_FAULT=device_lost:N: the plugin itself is lost and accepts only destroy calls). A
# missing default model skips the test (prints PLINTH_TEST_SKIPPED) unless PLINTH_REQUIRE_MODELS=1;
# so does a missing device.

set(skipped FALSE)

# Runs plinth with `fault` (NAME=VALUE) in the environment and checks that it failed cleanly. The
# variable is set in this process, not through `cmake -E env`, which turns a child's signal into
# exit status 1.
function(expect_clean_loss fault)
  string(REGEX MATCH "^([^=]+)=(.*)$" _ "${fault}")
  set(ENV{${CMAKE_MATCH_1}} "${CMAKE_MATCH_2}")
  execute_process(COMMAND "${PLINTH}" ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                  TIMEOUT 240)
  unset(ENV{${CMAKE_MATCH_1}})
  string(JOIN " " command ${ARGN})
  if(err MATCHES "is not installed in" AND NOT "$ENV{PLINTH_REQUIRE_MODELS}" STREQUAL "1")
    message("PLINTH_TEST_SKIPPED: ${err}")
    set(skipped TRUE PARENT_SCOPE)
    return()
  endif()
  if(err MATCHES "no device '${DEVICE}'")
    message("PLINTH_TEST_SKIPPED: ${err}")
    set(skipped TRUE PARENT_SCOPE)
    return()
  endif()
  # A process killed by a signal gives a text such as "Segmentation fault" here, not a number.
  if(NOT rc STREQUAL "1")
    message(FATAL_ERROR "${fault} plinth ${command}: want exit status 1, got '${rc}'\nstderr:\n${err}")
  endif()
  if(NOT err MATCHES "plinth: error: [^\n]* on ${DEVICE}: PLINTH_ERROR_DEVICE_LOST: [^\n]+")
    message(FATAL_ERROR "${fault} plinth ${command}: no DEVICE_LOST error line on stderr:\n${err}")
  endif()
  message("${fault} plinth ${command}: ${CMAKE_MATCH_0}")
endfunction()

foreach(variable PLINTH_FAULT PLINTH_PLUGIN_FAULT)
  foreach(n 0 1 10)
    expect_clean_loss("${variable}=device_lost:${n}" embed --device ${DEVICE} x)
    if(skipped)
      return()
    endif()
  endforeach()
  foreach(n 1 10 50 400)
    expect_clean_loss("${variable}=device_lost:${n}" generate --device ${DEVICE} --max-tokens 32 hello)
  endforeach()
endforeach()
