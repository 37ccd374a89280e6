// cuBLAS path of MATMUL. cuBLAS is column-major, so c = a @ b (row-major) is computed as
// c^T = b^T a^T: the row-major operands are read as their column-major transposes without copies.
#include "gpu_blas.hpp"

#include <climits>
#include <string>

#include "gpu_error.hpp"
#include "plinth/ops.h"

#if defined(PLINTH_GPU_CUDA)
#include <cublas_v2.h>
#endif

namespace plinth::gpu {

#if defined(PLINTH_GPU_CUDA)
namespace {

// Hopper and Blackwell kernels want up to 32 MiB; a per-stream workspace keeps concurrent streams
// from sharing one.
constexpr size_t kWorkspaceBytes = 32u << 20;

void check_blas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    sdk::fail(status == CUBLAS_STATUS_ALLOC_FAILED ? PLINTH_ERROR_OUT_OF_MEMORY : PLINTH_ERROR_INTERNAL,
              std::string(what) + ": " + cublasGetStatusString(status), static_cast<int64_t>(status));
  }
}

cudaDataType_t blas_type(int32_t dtype) {
  switch (dtype) {
    case PLINTH_DTYPE_F16: return CUDA_R_16F;
    case PLINTH_DTYPE_BF16: return CUDA_R_16BF;
    default: return CUDA_R_32F;
  }
}

// A column-major view of a logical [rows][cols] operand whose element (r, c) is at r*sr + c*sc bytes:
// either the rows are contiguous (op T over a cols x rows matrix) or the columns are (op N).
struct ColumnMajor {
  cublasOperation_t op = CUBLAS_OP_N;
  int64_t ld = 0;
};

// For the first cuBLAS operand we need op(X) to be rows x cols with X column-major.
bool view(int64_t rows, int64_t cols, int64_t sr, int64_t sc, int64_t elem, ColumnMajor* out) {
  if (rows == 1) sr = cols * elem;  // the stride of an extent-1 dim is never used
  if (cols == 1) sc = rows * elem;
  if (sr == elem && sc % elem == 0 && sc / elem >= rows) {
    *out = {CUBLAS_OP_N, sc / elem};
  } else if (sc == elem && sr % elem == 0 && sr / elem >= cols) {
    *out = {CUBLAS_OP_T, sr / elem};
  } else if (rows == 1 && cols == 1) {
    *out = {CUBLAS_OP_N, 1};
  } else {
    return false;
  }
  return out->ld > 0 && out->ld <= INT_MAX;
}

}  // namespace

BlasHandle::BlasHandle() {
  cublasHandle_t handle = nullptr;
  check_blas(cublasCreate(&handle), "cublasCreate");
  const cudaError_t error = cudaMalloc(&workspace_, kWorkspaceBytes);
  if (error != cudaSuccess) {
    cublasDestroy(handle);
    check(error, "cudaMalloc (cuBLAS workspace)");
  }
  handle_ = handle;
  // A fixed workspace makes cuBLAS calls capturable into graphs (no allocation inside capture).
  check_blas(cublasSetWorkspace(handle, workspace_, kWorkspaceBytes), "cublasSetWorkspace");
}

BlasHandle::~BlasHandle() {
  if (handle_ != nullptr) cublasDestroy(static_cast<cublasHandle_t>(handle_));
  if (workspace_ != nullptr) cudaFree(workspace_);
}

bool blas_available() noexcept { return true; }

bool blas_matmul(Stream& stream, const MatmulArgs& args) {
  const int32_t dt = args.a.dtype;
  if (dt != args.b.dtype || (dt != PLINTH_DTYPE_F32 && dt != PLINTH_DTYPE_F16 && dt != PLINTH_DTYPE_BF16)) return false;
  if (args.c.dtype != dt && args.c.dtype != PLINTH_DTYPE_F32) return false;
  if (args.k == 0 || args.m > INT_MAX || args.n > INT_MAX || args.k > INT_MAX) return false;
  const int64_t e = dt == PLINTH_DTYPE_F32 ? 4 : 2;
  const int64_t ec = args.c.dtype == PLINTH_DTYPE_F32 ? 4 : 2;
  // c^T is N x M column-major: unit stride along n.
  if (args.n > 1 && args.c.strides[3] != ec) return false;
  const int64_t ldc = args.m == 1 ? args.n : args.c.strides[2] / ec;
  if (args.c.strides[2] % ec != 0 || ldc < args.n || ldc > INT_MAX) return false;
  ColumnMajor x;  // b^T: N x K
  ColumnMajor y;  // a^T: K x M
  if (!view(args.n, args.k, args.b_sn, args.b_sk, e, &x)) return false;
  if (!view(args.k, args.m, args.a_sk, args.a_sm, e, &y)) return false;
  for (const auto* t : {&args.a, &args.b}) {
    if (reinterpret_cast<uintptr_t>(t->data) % e != 0 || t->strides[0] % e != 0 || t->strides[1] % e != 0) return false;
  }
  if (reinterpret_cast<uintptr_t>(args.c.data) % ec != 0 || args.c.strides[0] % ec != 0 || args.c.strides[1] % ec != 0) {
    return false;
  }
  std::lock_guard lock(stream.blas_mutex);
  if (!stream.blas) stream.blas = std::make_unique<BlasHandle>();
  auto handle = static_cast<cublasHandle_t>(stream.blas->handle());
  check_blas(cublasSetStream(handle, stream.stream), "cublasSetStream");
  const float alpha = args.alpha;
  const float beta = 0.0f;
  for (int64_t b0 = 0; b0 < args.c.dims[0]; ++b0) {
    const char* a = args.a.data + b0 * args.a.strides[0];
    const char* b = args.b.data + b0 * args.b.strides[0];
    char* c = args.c.data + b0 * args.c.strides[0];
    check_blas(cublasGemmStridedBatchedEx(handle, x.op, y.op, static_cast<int>(args.n), static_cast<int>(args.m),
                                          static_cast<int>(args.k), &alpha, b, blas_type(dt), static_cast<int>(x.ld),
                                          args.b.strides[1] / e, a, blas_type(dt), static_cast<int>(y.ld),
                                          args.a.strides[1] / e, &beta, c, blas_type(args.c.dtype),
                                          static_cast<int>(ldc), args.c.strides[1] / ec,
                                          static_cast<int>(args.c.dims[1]), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
               "cublasGemmStridedBatchedEx");
  }
  return true;
}

#else  // no vendor BLAS: the tiled kernel runs every float matmul

BlasHandle::BlasHandle() = default;
BlasHandle::~BlasHandle() = default;
bool blas_available() noexcept { return false; }
bool blas_matmul(Stream&, const MatmulArgs&) { return false; }

#endif

}  // namespace plinth::gpu
