# The installed package: `find_package(inference)` gives inference::inference, the public
# contract (include/inference/) with the native backend linked in (its self-registration
# included). Everything else (src/ headers, the CLI's libraries) stays private to this tree.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The native backend is an OBJECT library (so its static registration is always linked into the
# project's programs). Installed, its objects go into a static archive that consumers link whole:
# a plain archive member that nothing references would be dropped with the registration in it.
add_library(inference_native STATIC $<TARGET_OBJECTS:inference_backend_native>)
# The OBJECT library's own dependencies (src/backends/native/CMakeLists.txt).
target_link_libraries(inference_native PUBLIC inference_generation inference_engine inference_train
                                              inference_chat inference_tokenizer inference_core
                                              nlohmann_json::nlohmann_json)

add_library(inference INTERFACE)
add_library(inference::inference ALIAS inference)
target_include_directories(inference INTERFACE $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                               $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
# (export does not rename targets inside $<LINK_LIBRARY>, hence the namespaced install form.)
target_link_libraries(
  inference INTERFACE inference_core
  "$<BUILD_INTERFACE:$<LINK_LIBRARY:WHOLE_ARCHIVE,inference_native>>"
  "$<INSTALL_INTERFACE:$<LINK_LIBRARY:WHOLE_ARCHIVE,inference::inference_native>>")
target_compile_features(inference INTERFACE cxx_std_20)
# A package built with the sanitizers (or the fuzz instrumentation) holds objects that call the
# sanitizer runtimes: its consumers must link those runtimes too.
if(INFERENCE_SANITIZE OR INFERENCE_FUZZ)
  target_link_options(inference INTERFACE $<INSTALL_INTERFACE:-fsanitize=address,undefined>)
endif()

# Every library the umbrella reaches, in the export set (static libraries carry their
# dependencies to the consumer's link line).
set(INFERENCE_INSTALLED_LIBRARIES inference inference_native inference_core inference_arch
    inference_formats inference_tokenizer inference_chat inference_kernels_cpu inference_engine
    inference_generation inference_grammar inference_train)
install(TARGETS ${INFERENCE_INSTALLED_LIBRARIES} EXPORT inferenceTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/inference
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT inferenceTargets NAMESPACE inference::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/inference)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/inferenceConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/inferenceConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/inference)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/inferenceConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/inferenceConfig.cmake
              ${PROJECT_BINARY_DIR}/inferenceConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/inference)
