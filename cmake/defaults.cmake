# Shared compile settings for every target of the project.

add_library(inference_defaults INTERFACE)
target_compile_options(inference_defaults INTERFACE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports false -Wrestrict/-Wstringop-overflow positives inside libstdc++'s string
  # code at -O2/-O3 (GCC bug 105329); they are not about our code.
  target_compile_options(inference_defaults INTERFACE -Wno-restrict -Wno-stringop-overflow)
endif()
if(INFERENCE_WERROR)
  target_compile_options(inference_defaults INTERFACE -Werror)
endif()
if(INFERENCE_SANITIZE)
  target_compile_options(inference_defaults INTERFACE -fsanitize=address,undefined
                                                      -fno-sanitize-recover=undefined
                                                      -fno-omit-frame-pointer)
  target_link_options(inference_defaults INTERFACE -fsanitize=address,undefined)
endif()
if(INFERENCE_FUZZ)
  # Instrument the library code for coverage; the fuzz targets add -fsanitize=fuzzer themselves.
  target_compile_options(inference_defaults INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                                                      -fno-omit-frame-pointer)
  target_link_options(inference_defaults INTERFACE -fsanitize=address,undefined)
endif()

# inference_module(NAME [OBJECT] SOURCES ... DEPS ...)
# Declares one library of the project with the project defaults and the public include dir.
function(inference_module name)
  cmake_parse_arguments(ARG "OBJECT" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  if(ARG_OBJECT)
    add_library(${name} OBJECT ${ARG_SOURCES})
  else()
    add_library(${name} STATIC ${ARG_SOURCES})
  endif()
  # Build-tree paths only: the installed package (cmake/install.cmake) exposes include/ alone,
  # and the project's warning flags must not leak into a consumer's build.
  target_include_directories(${name} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                            $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/src>
                                            $<INSTALL_INTERFACE:include>)
  target_link_libraries(${name} PUBLIC $<BUILD_INTERFACE:inference_defaults> ${ARG_DEPS}
                                PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()
