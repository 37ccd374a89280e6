// Vendor baseline for the CUDA backend's numbers: cuBLAS f16/bf16 GEMM throughput at 4096^3 (f32
// accumulation, the same settings the plugin uses) and device-to-device cudaMemcpy bandwidth, printed
// in the same units as the plugin's check driver so the two can be compared line by line.
//   nvcc -O2 -arch=sm_90 cublas_baseline.cu -lcublas -o cublas_baseline && ./cublas_baseline
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

#define CHECK_CUDA(x)                                                                         \
  do {                                                                                        \
    cudaError_t e_ = (x);                                                                     \
    if (e_ != cudaSuccess) {                                                                  \
      std::printf("baseline error: %s: %s\n", #x, cudaGetErrorString(e_));                    \
      std::exit(1);                                                                           \
    }                                                                                         \
  } while (0)
#define CHECK_BLAS(x)                                                                         \
  do {                                                                                        \
    cublasStatus_t s_ = (x);                                                                  \
    if (s_ != CUBLAS_STATUS_SUCCESS) {                                                        \
      std::printf("baseline error: %s: %s\n", #x, cublasGetStatusString(s_));                 \
      std::exit(1);                                                                           \
    }                                                                                         \
  } while (0)

namespace {

__global__ void fill_half_bits(unsigned short* p, size_t n, unsigned short bits) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    p[i] = bits;
  }
}

float time_ms(cudaStream_t stream, int iters, void (*body)(void*), void* ctx) {
  cudaEvent_t a, b;
  CHECK_CUDA(cudaEventCreate(&a));
  CHECK_CUDA(cudaEventCreate(&b));
  body(ctx);
  CHECK_CUDA(cudaStreamSynchronize(stream));
  CHECK_CUDA(cudaEventRecord(a, stream));
  for (int i = 0; i < iters; ++i) body(ctx);
  CHECK_CUDA(cudaEventRecord(b, stream));
  CHECK_CUDA(cudaEventSynchronize(b));
  float ms = 0.0f;
  CHECK_CUDA(cudaEventElapsedTime(&ms, a, b));
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return ms / static_cast<float>(iters);
}

struct Gemm {
  cublasHandle_t handle;
  cudaDataType_t type;
  int n;
  void *a, *b, *c;
};

void run_gemm(void* p) {
  auto* g = static_cast<Gemm*>(p);
  const float alpha = 1.0f, beta = 0.0f;
  CHECK_BLAS(cublasGemmEx(g->handle, CUBLAS_OP_N, CUBLAS_OP_N, g->n, g->n, g->n, &alpha, g->b, g->type, g->n, g->a, g->type,
                          g->n, &beta, g->c, g->type, g->n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

struct Copy {
  cudaStream_t stream;
  void *src, *dst;
  size_t bytes;
};

void run_copy(void* p) {
  auto* c = static_cast<Copy*>(p);
  CHECK_CUDA(cudaMemcpyAsync(c->dst, c->src, c->bytes, cudaMemcpyDeviceToDevice, c->stream));
}

}  // namespace

int main() {
  cudaDeviceProp prop{};
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  std::printf("baseline device: %s (sm_%d%d), %d SMs\n", prop.name, prop.major, prop.minor, prop.multiProcessorCount);
  cudaStream_t stream;
  CHECK_CUDA(cudaStreamCreate(&stream));
  cublasHandle_t handle;
  CHECK_BLAS(cublasCreate(&handle));
  CHECK_BLAS(cublasSetStream(handle, stream));
  const int n = 4096;
  const size_t elems = static_cast<size_t>(n) * n;
  void *a, *b, *c;
  CHECK_CUDA(cudaMalloc(&a, elems * 2));
  CHECK_CUDA(cudaMalloc(&b, elems * 2));
  CHECK_CUDA(cudaMalloc(&c, elems * 2));
  for (int t = 0; t < 2; ++t) {
    const cudaDataType_t type = t == 0 ? CUDA_R_16F : CUDA_R_16BF;
    const unsigned short half_bits = t == 0 ? 0x3800 : 0x3f00;  // 0.5 in f16 and bf16
    fill_half_bits<<<1024, 256, 0, stream>>>(static_cast<unsigned short*>(a), elems, half_bits);
    fill_half_bits<<<1024, 256, 0, stream>>>(static_cast<unsigned short*>(b), elems, half_bits);
    Gemm g{handle, type, n, a, b, c};
    const float ms = time_ms(stream, 20, run_gemm, &g);
    std::printf("baseline cublas %s gemm 4096^3: %.3f ms, %.1f TFLOP/s\n", t == 0 ? "f16" : "bf16", ms,
                2.0 * n * n * n / (ms * 1e9));
  }
  const size_t bytes = 1ull << 30;
  void *src, *dst;
  CHECK_CUDA(cudaMalloc(&src, bytes));
  CHECK_CUDA(cudaMalloc(&dst, bytes));
  Copy cp{stream, src, dst, bytes};
  const float ms = time_ms(stream, 10, run_copy, &cp);
  std::printf("baseline cudaMemcpy D2D 1 GiB: %.3f ms, %.0f GB/s (read+write)\n", ms, 2.0 * bytes / (ms * 1e6));
  cublasDestroy(handle);
  return 0;
}
