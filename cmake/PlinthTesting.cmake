# The interpreter of the test suite's Python tests that need PyPI packages (the official openai
# client of the server tests): `tools/bootstrap.sh test` (or `testdeps`) installs
# tools/test-requirements.txt into .venv-test/ at the root of the source tree. A cache variable so a
# machine that keeps that environment elsewhere can point the tests at it with -D.
set(PLINTH_TEST_PYTHON "${PROJECT_SOURCE_DIR}/.venv-test/bin/python3" CACHE FILEPATH
    "Python interpreter with tools/test-requirements.txt installed (tools/bootstrap.sh testdeps)")

# plinth_discover_tests(<target> LABELS <label>... [TEST_PREFIX p] [DISCOVERY_TIMEOUT s] [PROPERTIES ...])
# gtest_discover_tests with labels that survive: CMake 3.25 writes gtest_discover_tests' PROPERTIES
# unquoted into the generated script, so LABELS "unit;sanitize" would become the label "unit" and a
# property named "sanitize". Instead the discovered test list is labelled by an include file that runs
# after discovery. Extra PROPERTIES (single-valued: TIMEOUT, ENVIRONMENT with one entry, ...) pass
# through to gtest_discover_tests.
function(plinth_discover_tests target)
  cmake_parse_arguments(D "" "TEST_PREFIX;DISCOVERY_TIMEOUT" "LABELS;PROPERTIES" ${ARGN})
  if(NOT D_LABELS)
    message(FATAL_ERROR "plinth_discover_tests(${target}): LABELS is required")
  endif()
  if("sanitize" IN_LIST D_LABELS)
    plinth_sanitized_target(${target})
  endif()
  set(args TEST_LIST ${target}_tests)
  if(D_TEST_PREFIX)
    list(APPEND args TEST_PREFIX "${D_TEST_PREFIX}")
  endif()
  if(D_DISCOVERY_TIMEOUT)
    list(APPEND args DISCOVERY_TIMEOUT ${D_DISCOVERY_TIMEOUT})
  endif()
  if(D_PROPERTIES)
    list(APPEND args PROPERTIES ${D_PROPERTIES})
  endif()
  gtest_discover_tests(${target} ${args})
  set(file "${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake")
  file(WRITE "${file}"
       "if(DEFINED ${target}_tests)\n"
       "  set_tests_properties(\${${target}_tests} PROPERTIES LABELS \"${D_LABELS}\")\n"
       "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${file}")
endfunction()

# plinth_sanitized_target(<target>...): targets that tests labelled `sanitize` run. The top level
# collects them into plinth_sanitize_tests, which is all the sanitizer tree builds (build preset
# `asan`): it runs only those tests. plinth_discover_tests registers its targets itself; a plain
# add_test labelled `sanitize` registers its executable here (ctest fails loudly if one is missing).
function(plinth_sanitized_target)
  set_property(GLOBAL APPEND PROPERTY PLINTH_SANITIZE_TARGETS ${ARGN})
endfunction()
