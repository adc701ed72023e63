# fcnlab_gpu.cmake — the GPU backends (included from the top CMakeLists when FCNLAB_GPU != off).
#   simt: kernels/cuda/*.cu compiled as C++ by the host compiler over kernels/simt: the CUDA
#         kernels run on the CPU under CUDA's execution model (tests, CI).
#   cuda: nvcc for CMAKE_CUDA_ARCHITECTURES (default 90 = H100/H200); cuDNN/cuBLAS baselines.
file(GLOB FCNLAB_CUDA_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/cuda/*.cu)
target_compile_definitions(fcnlab PUBLIC FCNLAB_WITH_CUDA_KERNELS=1)

if(FCNLAB_GPU STREQUAL "simt")
  include(${PROJECT_SOURCE_DIR}/kernels/simt/simt.cmake)
  set_source_files_properties(${FCNLAB_CUDA_SOURCES} PROPERTIES LANGUAGE CXX COMPILE_OPTIONS "-xc++")
  target_sources(fcnlab PRIVATE ${FCNLAB_CUDA_SOURCES})
  target_link_libraries(fcnlab PUBLIC fcnlab_simt)
  target_compile_definitions(fcnlab PUBLIC FCNLAB_GPU_SIMT=1)
  message(STATUS "fcnlab: GPU backend = simt (CUDA kernels emulated on the CPU)")
else()
  include(CheckLanguage)
  check_language(CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    message(FATAL_ERROR "FCNLAB_GPU=cuda but no CUDA compiler (nvcc) was found; "
                        "set CMAKE_CUDA_COMPILER or put nvcc on PATH")
  endif()
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90)
  endif()
  enable_language(CUDA)
  # CMake 3.25 predates nvcc's C++20 support: tell it the flag (the .cu files share C++20 headers).
  if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
  endif()
  find_package(CUDAToolkit REQUIRED)
  target_sources(fcnlab PRIVATE ${FCNLAB_CUDA_SOURCES})
  # The library target exists before CUDA is enabled, so its CUDA properties are set here.
  set_target_properties(fcnlab PROPERTIES CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}"
                        CUDA_STANDARD 20 CUDA_STANDARD_REQUIRED ON)
  target_link_libraries(fcnlab PUBLIC CUDA::cudart)
  target_compile_definitions(fcnlab PUBLIC FCNLAB_GPU_CUDA=1)
  target_compile_options(fcnlab PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -Xcompiler=-fopenmp -lineinfo>)

  # cuDNN / cuBLAS: baselines to compare against (kernels/cudnn), never the path of a hand op.
  # cuDNN ships inside the toolkit here (include/, lib/ or lib64/) or under CUDNN_ROOT.
  find_path(FCNLAB_CUDNN_INCLUDE cudnn.h HINTS $ENV{CUDNN_ROOT}/include ${CUDAToolkit_INCLUDE_DIRS}
            ${CUDAToolkit_LIBRARY_ROOT}/include)
  find_library(FCNLAB_CUDNN_LIBRARY cudnn HINTS $ENV{CUDNN_ROOT}/lib $ENV{CUDNN_ROOT}/lib64
               ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_ROOT}/lib ${CUDAToolkit_LIBRARY_ROOT}/lib64)
  file(GLOB FCNLAB_CUDNN_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/cudnn/*.cpp
       ${PROJECT_SOURCE_DIR}/kernels/cudnn/*.cu)
  if(FCNLAB_CUDNN_INCLUDE AND FCNLAB_CUDNN_LIBRARY AND FCNLAB_CUDNN_SOURCES)
    target_sources(fcnlab PRIVATE ${FCNLAB_CUDNN_SOURCES})
    target_include_directories(fcnlab PRIVATE ${FCNLAB_CUDNN_INCLUDE})
    target_link_libraries(fcnlab PUBLIC ${FCNLAB_CUDNN_LIBRARY} CUDA::cublas)
    target_compile_definitions(fcnlab PUBLIC FCNLAB_WITH_CUDNN=1)
    message(STATUS "fcnlab: GPU backend = cuda (archs ${CMAKE_CUDA_ARCHITECTURES}), cuDNN baseline ${FCNLAB_CUDNN_LIBRARY}")
  else()
    message(STATUS "fcnlab: GPU backend = cuda (archs ${CMAKE_CUDA_ARCHITECTURES}), no cuDNN baseline")
  endif()
endif()
