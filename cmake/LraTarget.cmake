# lra_add_layer(NAME <layer> SOURCES ... DEPENDS ...): one library target per layer,
# headers under <layer>/include/lra/<layer>/, exported as lra::<layer>.
function(lra_compile_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
  if(LRA_NATIVE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
  if(LRA_SANITIZE)
    target_compile_options(${target} PUBLIC -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
  if(LRA_FUZZ)  # coverage for libFuzzer and ASan on the project's own code (tests/fuzz)
    target_compile_options(${target} PUBLIC -fsanitize=fuzzer-no-link,address
                                            -fno-omit-frame-pointer -g)
    target_link_options(${target} PUBLIC -fsanitize=address)
  endif()
endfunction()

function(lra_add_layer)
  cmake_parse_arguments(L "" "NAME" "SOURCES;DEPENDS;PRIVATE_DEPENDS" ${ARGN})
  set(target lra_${L_NAME})
  add_library(${target} ${L_SOURCES})
  add_library(lra::${L_NAME} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${L_NAME} OUTPUT_NAME lra_${L_NAME})
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${target} PUBLIC ${L_DEPENDS} PRIVATE ${L_PRIVATE_DEPENDS})
  target_compile_features(${target} PUBLIC cxx_std_20)  # the public headers need C++20
  lra_compile_options(${target})
  set_property(GLOBAL APPEND PROPERTY LRA_LAYER_TARGETS ${target})
endfunction()
