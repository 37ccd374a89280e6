# Helpers of the mutation harness (tests/mutation/README.md). Include this file to register CTS runs
# against a plugin whose defects are switched on at run time by PLINTH_MUTANT=<id>, also from other
# test folders:  include(${PROJECT_SOURCE_DIR}/tests/mutation/PlinthMutation.cmake)
include_guard(GLOBAL)
set(PLINTH_MUTATION_DRIVER "${CMAKE_CURRENT_LIST_DIR}/run_mutant.cmake")

# plinth_mutation_tests(PLUGIN <target> LEVEL <core|inference-1|inference-2> [EXPECT <list file>] [LABEL <label>]
#                       [ARGS <extra cts args>...] MUTANTS <id> <filter glob> [<id> <filter glob>]...)
# One test per mutant, `mutation.<id>`: runs `plinth cts` on the plugin with PLINTH_MUTANT=<id> and
# `--filter <glob>` and passes only if the CTS reports a failure (exit status 1). A mutant the CTS
# misses fails the test as "SURVIVED".
function(plinth_mutation_tests)
  cmake_parse_arguments(M "" "PLUGIN;LEVEL;EXPECT;LABEL" "ARGS;MUTANTS" ${ARGN})
  if(NOT M_LEVEL)
    set(M_LEVEL inference-1)
  endif()
  set(_expect "")
  if(M_EXPECT)
    set(_expect "-DEXPECT=${M_EXPECT}")
  endif()
  list(LENGTH M_MUTANTS _n)
  math(EXPR _odd "${_n} % 2")
  if(_odd OR _n EQUAL 0)
    message(FATAL_ERROR "plinth_mutation_tests(${M_PLUGIN}): MUTANTS wants pairs of <id> <filter glob>")
  endif()
  while(M_MUTANTS)
    list(POP_FRONT M_MUTANTS _id _filter)
    add_test(NAME mutation.${_id}
             COMMAND ${CMAKE_COMMAND} -DPLINTH=$<TARGET_FILE:plinth> -DPLUGIN=$<TARGET_FILE:${M_PLUGIN}>
                     -DLEVEL=${M_LEVEL} "-DFILTER=${_filter}" -DMUTANT=${_id} ${_expect}
                     "-DARGS=${M_ARGS}" -P ${PLINTH_MUTATION_DRIVER})
    set_tests_properties(mutation.${_id} PROPERTIES LABELS "mutation;${M_LABEL}" TIMEOUT 120)
  endwhile()
endfunction()

# plinth_mutation_clean_test(PLUGIN <target> LEVEL <level> [EXPECT <list file>] [NAME <test name>])
# The mutated plugin with no mutant switched on must pass the whole level.
function(plinth_mutation_clean_test)
  cmake_parse_arguments(M "" "PLUGIN;LEVEL;EXPECT;NAME" "" ${ARGN})
  if(NOT M_NAME)
    set(M_NAME mutation.${M_PLUGIN}.clean)
  endif()
  set(_expect "")
  if(M_EXPECT)
    set(_expect "-DEXPECT=${M_EXPECT}")
  endif()
  add_test(NAME ${M_NAME}
           COMMAND ${CMAKE_COMMAND} -DPLINTH=$<TARGET_FILE:plinth> -DPLUGIN=$<TARGET_FILE:${M_PLUGIN}>
                   -DLEVEL=${M_LEVEL} ${_expect} -P ${PLINTH_MUTATION_DRIVER})
  set_tests_properties(${M_NAME} PROPERTIES LABELS mutation TIMEOUT 120)
endfunction()
