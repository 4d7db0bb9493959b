# cmake -DROOT=<tree> -P cmake/check_layers.cmake
# Checks every #include of the modules' sources under ROOT against cmake/layers.cmake (see
# cmake/layer_rules.cmake); fails naming each file, line and broken rule. The build runs it when a
# source changes, the ctest `layers_respected` on the tree, and the layer tests on fixture trees.
cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/layer_rules.cmake)
if(NOT ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<source tree> -P check_layers.cmake")
endif()
inference_check_layer_table(problems)
_inference_report("The layer table is inconsistent" "${problems}")
inference_layer_files("${ROOT}" files)
inference_check_includes("${ROOT}" files problems count)
_inference_report("Includes break the layers" "${problems}")
list(LENGTH files file_count)
message(STATUS "Layers: ${count} includes in ${file_count} files respect cmake/layers.cmake")
