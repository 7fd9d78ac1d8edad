# Tests that a project can use tricolor the two ways users do, each by
# configuring, building and running tests/consumer/ in a scratch directory:
#   consumer_find_package      installs this build (cmake --install) into a
#                              prefix and uses find_package(tricolor)
#   consumer_add_subdirectory  add_subdirectory() on this source tree
# Registered only in unsanitized builds: in a sanitized one the consumer
# would have to repeat the sanitizer flags to link against the library.
if(TRICOLOR_SANITIZE)
  message(STATUS "tricolor: consumer_* tests skipped in sanitizer builds (TRICOLOR_SANITIZE=${TRICOLOR_SANITIZE})")
  return()
endif()

get_property(_multi_config GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
if(_multi_config)
  set(_build_type $<CONFIG>)
elseif(CMAKE_BUILD_TYPE)
  set(_build_type ${CMAKE_BUILD_TYPE})
else()
  set(_build_type Release)
endif()

foreach(_mode find_package add_subdirectory)
  add_test(NAME consumer_${_mode}
    COMMAND ${CMAKE_COMMAND}
      -DMODE=${_mode}
      -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
      -DBUILD_DIR=${PROJECT_BINARY_DIR}
      -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer/${_mode}
      -DGENERATOR=${CMAKE_GENERATOR}
      -DCXX_COMPILER=${CMAKE_CXX_COMPILER}
      "-DCXX_FLAGS=${CMAKE_CXX_FLAGS}"
      -DBUILD_TYPE=${_build_type}
      -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run.cmake)
  set_tests_properties(consumer_${_mode} PROPERTIES
    TIMEOUT 600
    LABELS consumer)
endforeach()
