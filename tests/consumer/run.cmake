# cmake -P script behind the consumer_* tests (tests/consumer.cmake):
# configures, builds and runs the consumer project in WORK_DIR.
#   MODE=find_package      install BUILD_DIR into WORK_DIR/prefix, find_package it
#   MODE=add_subdirectory  add_subdirectory(SOURCE_DIR)
# Also takes GENERATOR, CXX_COMPILER, CXX_FLAGS, BUILD_TYPE from the parent build.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    list(JOIN ARGV " " cmd)
    message(FATAL_ERROR "consumer (${MODE}): failed (${rc}): ${cmd}")
  endif()
endfunction()

set(configure ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build -G ${GENERATOR}
  -DCMAKE_BUILD_TYPE=${BUILD_TYPE} -DCMAKE_CXX_COMPILER=${CXX_COMPILER} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}")
if(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} --install ${BUILD_DIR} --config ${BUILD_TYPE} --prefix ${WORK_DIR}/prefix)
  run(${configure} -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DEXPECT_TRICOLOR_PREFIX=${WORK_DIR}/prefix)
elseif(MODE STREQUAL "add_subdirectory")
  run(${configure} -DTRICOLOR_SOURCE_DIR=${SOURCE_DIR})
else()
  message(FATAL_ERROR "MODE must be find_package or add_subdirectory, not '${MODE}'")
endif()
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
