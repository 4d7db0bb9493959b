# Runs CMD (a ;-list) and fails unless it exits with EXPECTED and, if given, its combined output
# matches PATTERN. Used for CLI exit-code tests.
execute_process(COMMAND ${CMD} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL EXPECTED)
  message(FATAL_ERROR "exit code ${rc}, expected ${EXPECTED}\nstdout: ${out}\nstderr: ${err}")
endif()
if(DEFINED PATTERN AND NOT "${out}${err}" MATCHES "${PATTERN}")
  message(FATAL_ERROR "output does not match '${PATTERN}'\nstdout: ${out}\nstderr: ${err}")
endif()
