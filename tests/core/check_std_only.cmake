# Fails if a public header includes anything but <standard> headers or "inference/…" headers.
file(GLOB headers ${DIR}/*.hpp)
set(std_headers algorithm any array atomic chrono compare concepts condition_variable cstddef
    cstdint cstdio cstdlib cstring exception filesystem functional initializer_list iosfwd
    iterator limits map memory mutex new optional ostream span stdexcept string string_view
    system_error thread type_traits unordered_map utility variant vector)
foreach(h IN LISTS headers)
  file(STRINGS ${h} lines REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS lines)
    if(line MATCHES "<([^>]+)>")
      list(FIND std_headers "${CMAKE_MATCH_1}" idx)
      if(idx EQUAL -1)
        message(FATAL_ERROR "${h}: non-standard include <${CMAKE_MATCH_1}>")
      endif()
    elseif(line MATCHES "\"([^\"]+)\"")
      if(NOT CMAKE_MATCH_1 MATCHES "^inference/")
        message(FATAL_ERROR "${h}: include \"${CMAKE_MATCH_1}\" outside the contract")
      endif()
    endif()
  endforeach()
endforeach()
