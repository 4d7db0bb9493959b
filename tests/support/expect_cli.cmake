# Runs CMD (a ;-list) with stdin from INPUT (a file, optional) and fails unless it exits with
# EXPECTED and its combined output matches PATTERN (optional).
if(DEFINED INPUT AND NOT INPUT STREQUAL "")
  execute_process(COMMAND ${CMD} INPUT_FILE ${INPUT} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
else()
  execute_process(COMMAND ${CMD} INPUT_FILE /dev/null RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
endif()
if(NOT rc EQUAL EXPECTED)
  message(FATAL_ERROR "exit code ${rc}, expected ${EXPECTED}\nstdout: ${out}\nstderr: ${err}")
endif()
if(DEFINED PATTERN AND NOT "${out}${err}" MATCHES "${PATTERN}")
  message(FATAL_ERROR "output does not match '${PATTERN}'\nstdout: ${out}\nstderr: ${err}")
endif()
