# simt.cmake — defines the static library fcnlab_simt (the SIMT layer: CUDA kernels on the CPU).
# Included by tests/simt (always built) and by the FCNLAB_GPU=simt build; safe to include twice.
if(NOT TARGET fcnlab_simt)
  file(GLOB FCNLAB_SIMT_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
  add_library(fcnlab_simt STATIC ${FCNLAB_SIMT_SOURCES})
  target_link_libraries(fcnlab_simt PUBLIC fcnlab_options Threads::Threads)
endif()
