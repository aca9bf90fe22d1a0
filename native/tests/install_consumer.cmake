# Installs the built Spindle into a scratch prefix, then configures, builds
# and runs a consumer that finds it with find_package(Spindle).
# Invoked by CTest with -DBUILD_DIR -DSOURCE_DIR -DWORK_DIR.
file(REMOVE_RECURSE "${WORK_DIR}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix"
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/build"
                        "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix"
                        "-DCMAKE_BUILD_RPATH=${WORK_DIR}/prefix/lib"
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build "${WORK_DIR}/build" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed: ${rc}")
endif()
execute_process(COMMAND "${WORK_DIR}/build/consumer" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the consumer failed: ${rc}")
endif()

# GNU ld (bfd) for split-stack goroutine code is refused with a message.
if(CMAKE_HOST_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64" AND CMAKE_HOST_SYSTEM_NAME STREQUAL "Linux")
  execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/build-bfd"
                          "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix" -DSPINDLE_SPLIT_LINKER=bfd
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc)
    message(FATAL_ERROR "configuring with SPINDLE_SPLIT_LINKER=bfd was not refused")
  endif()
  if(NOT err MATCHES "must be linked with lld or gold")
    message(FATAL_ERROR "the bfd refusal does not say why:\n${err}")
  endif()
endif()
