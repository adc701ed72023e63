# simt.cmake — defines the static library fcnlab_simt (the SIMT layer: CUDA kernels on the CPU).
# Included by tests/simt (always built) and by the FCNLAB_GPU=simt build; safe to include twice.
if(NOT TARGET fcnlab_simt)
  file(GLOB FCNLAB_SIMT_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
  add_library(fcnlab_simt STATIC ${FCNLAB_SIMT_SOURCES})
  target_link_libraries(fcnlab_simt PUBLIC fcnlab_options Threads::Threads)
  # Kernels run on 64 KiB fiber stacks above a 64 KiB guard: probe large frames page by page so
  # an overflow always lands in the guard (and is reported) instead of in another fiber's stack.
  include(CheckCXXCompilerFlag)
  check_cxx_compiler_flag(-fstack-clash-protection FCNLAB_HAVE_STACK_CLASH_PROTECTION)
  if(FCNLAB_HAVE_STACK_CLASH_PROTECTION)
    target_compile_options(fcnlab_simt PUBLIC $<$<COMPILE_LANGUAGE:CXX>:-fstack-clash-protection>)
  endif()
endif()
