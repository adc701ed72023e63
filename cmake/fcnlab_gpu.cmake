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
  # Looked for under CUDNN_ROOT, then in the toolkit (include/, lib/, lib64/: where our development
  # machines have them), then in a Python environment's NVIDIA wheels (nvidia-cudnn-cu13,
  # nvidia-cublas: site-packages/nvidia/{cudnn,cublas}/{include,lib}), which on images built around
  # PyTorch can be the only copy; a wheel's lib/ holds libcudnn.so.9 with no unversioned link.
  set(FCNLAB_NVIDIA_WHEELS "")
  foreach(py python3 /opt/torch/.venv/bin/python3)
    execute_process(COMMAND ${py} -c
      "import importlib.util as u\nfor n in ('nvidia.cudnn', 'nvidia.cublas'):\n    try: s = u.find_spec(n)\n    except Exception: s = None\n    if s and s.submodule_search_locations: print(list(s.submodule_search_locations)[0])"
      OUTPUT_VARIABLE _dirs ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc)
    if(_rc EQUAL 0 AND _dirs)
      string(REPLACE "\n" ";" _dirs "${_dirs}")
      list(APPEND FCNLAB_NVIDIA_WHEELS ${_dirs})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES FCNLAB_NVIDIA_WHEELS)  # both interpreters may be the same one
  set(_wheel_inc "")
  set(_wheel_lib "")
  foreach(d ${FCNLAB_NVIDIA_WHEELS})
    list(APPEND _wheel_inc ${d}/include)
    list(APPEND _wheel_lib ${d}/lib)
  endforeach()
  find_path(FCNLAB_CUDNN_INCLUDE cudnn.h HINTS $ENV{CUDNN_ROOT}/include ${CUDAToolkit_INCLUDE_DIRS}
            ${CUDAToolkit_LIBRARY_ROOT}/include ${_wheel_inc})
  find_library(FCNLAB_CUDNN_LIBRARY NAMES cudnn libcudnn.so.9
               HINTS $ENV{CUDNN_ROOT}/lib $ENV{CUDNN_ROOT}/lib64 ${CUDAToolkit_LIBRARY_DIR}
                     ${CUDAToolkit_LIBRARY_ROOT}/lib ${CUDAToolkit_LIBRARY_ROOT}/lib64 ${_wheel_lib})
  # cuBLAS: the toolkit's, else a wheel's (its header beside it).
  if(TARGET CUDA::cublas)
    set(FCNLAB_CUBLAS CUDA::cublas)
  else()
    find_library(FCNLAB_CUBLAS_LIBRARY NAMES cublas libcublas.so.13 libcublas.so.12 HINTS ${_wheel_lib})
    find_path(FCNLAB_CUBLAS_INCLUDE cublas_v2.h HINTS ${CUDAToolkit_INCLUDE_DIRS} ${_wheel_inc})
    if(FCNLAB_CUBLAS_LIBRARY AND FCNLAB_CUBLAS_INCLUDE)
      set(FCNLAB_CUBLAS ${FCNLAB_CUBLAS_LIBRARY})
      target_include_directories(fcnlab PRIVATE ${FCNLAB_CUBLAS_INCLUDE})
    endif()
  endif()
  file(GLOB FCNLAB_CUDNN_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/cudnn/*.cpp
       ${PROJECT_SOURCE_DIR}/kernels/cudnn/*.cu)
  if(FCNLAB_CUDNN_INCLUDE AND FCNLAB_CUDNN_LIBRARY AND FCNLAB_CUBLAS AND FCNLAB_CUDNN_SOURCES)
    target_sources(fcnlab PRIVATE ${FCNLAB_CUDNN_SOURCES})
    target_include_directories(fcnlab PRIVATE ${FCNLAB_CUDNN_INCLUDE})
    target_link_libraries(fcnlab PUBLIC ${FCNLAB_CUDNN_LIBRARY} ${FCNLAB_CUBLAS})
    target_compile_definitions(fcnlab PUBLIC FCNLAB_WITH_CUDNN=1)
    message(STATUS "fcnlab: GPU backend = cuda (archs ${CMAKE_CUDA_ARCHITECTURES}), cuDNN baseline ${FCNLAB_CUDNN_LIBRARY} (headers ${FCNLAB_CUDNN_INCLUDE}), cuBLAS ${FCNLAB_CUBLAS}")
  else()
    message(STATUS "fcnlab: GPU backend = cuda (archs ${CMAKE_CUDA_ARCHITECTURES}), no cuDNN baseline "
                   "(cudnn.h: ${FCNLAB_CUDNN_INCLUDE}; libcudnn: ${FCNLAB_CUDNN_LIBRARY}; cuBLAS: ${FCNLAB_CUBLAS}; "
                   "Python NVIDIA wheels searched: ${FCNLAB_NVIDIA_WHEELS}); set CUDNN_ROOT")
  endif()
endif()
