# Runs `plinth cts ARGS...` and checks its exit status and output.
#   cmake -DPLINTH=<plinth> "-DARGS=a;b;c" -DRC=<status> [-DEXACT=<whole output>] [-DCONTAINS=<text>]
#         -P cli_expect.cmake
# EXACT is the complete stdout+stderr (a usage error is exactly one line); CONTAINS a substring.
execute_process(COMMAND "${PLINTH}" cts ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                TIMEOUT 120)
set(all "${out}${err}")
if(NOT rc STREQUAL "${RC}")
  message(FATAL_ERROR "want exit status ${RC}, got '${rc}'; output:\n${all}")
endif()
if(DEFINED EXACT AND NOT all STREQUAL "${EXACT}\n")
  message(FATAL_ERROR "want exactly the line\n${EXACT}\ngot:\n${all}")
endif()
if(DEFINED CONTAINS)
  string(FIND "${all}" "${CONTAINS}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "want output containing\n${CONTAINS}\ngot:\n${all}")
  endif()
endif()
