# `plinth bench ops --device <unknown>` must fail with a non-zero exit and one error line naming the
# device, before measuring anything. Inputs: -DPLINTH=<exe> -DPLUGIN=<cpu plugin>.
execute_process(
  COMMAND "${PLINTH}" bench ops --tiny --device nosuch:7 --plugin "${PLUGIN}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "expected a failure, got exit 0:\n${out}")
endif()
# Other stderr lines may be the runtime's log (plugins it rejected); the error itself is one line.
# Count the markers alone: the message itself may hold ';', which CMake would split as a list.
string(REGEX MATCHALL "plinth: error: " errors "${err}")
list(LENGTH errors n_errors)
if(NOT n_errors EQUAL 1 OR NOT err MATCHES "plinth: error: [^\n]*nosuch:7")
  message(FATAL_ERROR "expected one 'plinth: error:' line naming nosuch:7 on stderr, got:\n${err}")
endif()
if(out MATCHES "matmul")
  message(FATAL_ERROR "measured rows although the device is unknown:\n${out}")
endif()
