# `plinth cts --plugin FILE` on a file that is no plugin prints exactly one line, naming the file and
# the loader's reason, and exits with status 1.
#   cmake -DPLINTH=<plinth executable> -DFILE=<file> -DREASON=<expected reason> -P cli_not_a_plugin.cmake
execute_process(COMMAND "${PLINTH}" cts --plugin "${FILE}" RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err TIMEOUT 60)
set(all "${out}${err}")
if(NOT rc STREQUAL "1")
  message(FATAL_ERROR "want exit status 1, got '${rc}'; output:\n${all}")
endif()
set(want "plinth cts: cannot load plugin ${FILE}: ${REASON}\n")
if(NOT all STREQUAL want)
  message(FATAL_ERROR "want exactly the line\n${want}got:\n${all}")
endif()
