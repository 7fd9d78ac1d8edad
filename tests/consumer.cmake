# A project that uses tricolor the two ways users do: find_package against an
# installed copy, and add_subdirectory on the source tree. Each test
# configures, builds and runs tests/consumer/ in a scratch directory. They
# run only in unsanitized builds (the consumer would have to repeat the
# sanitizer flags to link).
if(NOT TRICOLOR_SANITIZE)
  set(_consumer_dir ${CMAKE_CURRENT_BINARY_DIR}/consumer)
  add_test(NAME consumer_find_package
    COMMAND ${CMAKE_COMMAND}
      -DMODE=find_package -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DBUILD_DIR=${PROJECT_BINARY_DIR}
      -DWORK_DIR=${_consumer_dir}/find_package -DGENERATOR=${CMAKE_GENERATOR}
      -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run.cmake)
  add_test(NAME consumer_add_subdirectory
    COMMAND ${CMAKE_COMMAND}
      -DMODE=add_subdirectory -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DBUILD_DIR=${PROJECT_BINARY_DIR}
      -DWORK_DIR=${_consumer_dir}/add_subdirectory -DGENERATOR=${CMAKE_GENERATOR}
      -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run.cmake)
  set_tests_properties(consumer_find_package consumer_add_subdirectory PROPERTIES TIMEOUT 600)
endif()
