# The source lists shared by backends/cuda and backends/rocm (included from their CMakeLists).
set(PLINTH_GPU_DIR "${CMAKE_CURRENT_LIST_DIR}")
set(PLINTH_GPU_HOST_SOURCES
  ${PLINTH_GPU_DIR}/gpu_plugin.cpp
  ${PLINTH_GPU_DIR}/gpu_ops.cpp
  ${PLINTH_GPU_DIR}/gpu_objects.cpp
  ${PLINTH_GPU_DIR}/gpu_discovery.cpp
  ${PLINTH_GPU_DIR}/gpu_error.cpp
  ${PLINTH_GPU_DIR}/gpu_blas.cpp)
set(PLINTH_GPU_KERNEL_SOURCES
  ${PLINTH_GPU_DIR}/kernels_elementwise.cu
  ${PLINTH_GPU_DIR}/kernels_matmul.cu
  ${PLINTH_GPU_DIR}/kernels_attention.cu
  ${PLINTH_GPU_DIR}/kernels_paged_attention.cu)

# Project-wide warning flags are written for the C/C++ compilers; nvcc and hipcc get their own.
# Wraps this directory's compile options so they apply to C and C++ sources only.
function(plinth_gpu_limit_options_to_cxx)
  get_directory_property(_opts COMPILE_OPTIONS)
  set(_wrapped "")
  foreach(_o IN LISTS _opts)
    list(APPEND _wrapped "$<$<COMPILE_LANGUAGE:C,CXX>:${_o}>")
  endforeach()
  set_directory_properties(PROPERTIES COMPILE_OPTIONS "${_wrapped}")
endfunction()
