# The harness that runs real powchain processes (tests/integration:
# node_process, test_peer), built once for the integration tests and the
# process benchmarks alike.
function(powchain_add_process_harness)
  if(TARGET powchain_process_harness)
    return()
  endif()
  find_package(GTest REQUIRED)
  if(NOT TARGET powchain_testutil)  # the tests are not built (release)
    add_library(powchain_testutil STATIC ${PROJECT_SOURCE_DIR}/tests/testutil/chain_builder.cpp)
    target_link_libraries(powchain_testutil PUBLIC powchain_consensus powchain_mining
                          powchain_flags)
    target_include_directories(powchain_testutil PUBLIC ${PROJECT_SOURCE_DIR}/tests)
  endif()
  add_library(powchain_process_harness STATIC
              ${PROJECT_SOURCE_DIR}/tests/integration/node_process.cpp
              ${PROJECT_SOURCE_DIR}/tests/integration/test_peer.cpp)
  target_include_directories(powchain_process_harness PUBLIC
                             ${PROJECT_SOURCE_DIR}/tests/integration ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(powchain_process_harness PUBLIC powchain_testutil powchain_p2p powchain_mining
                        powchain_consensus powchain_flags GTest::gtest Boost::headers
                        Threads::Threads)
  target_compile_definitions(powchain_process_harness PUBLIC
                             POWCHAIN_BINARY="$<TARGET_FILE:powchain>")
  add_dependencies(powchain_process_harness powchain)
endfunction()
