#include "gpu_objects.hpp"

#include "gpu_blas.hpp"

namespace plinth::gpu {

// Destructors release what they own and ignore errors: they run on paths that must not throw
// (destroy entries, device_close reclaiming leaks, shutdown).
Buffer::~Buffer() {
  if (base == nullptr) return;
  (void)gpuSetDevice(device->ordinal);
  if (kind == PLINTH_MEMORY_HOST_PINNED) {
    (void)gpuFreeHost(base);
  } else {
    (void)gpuFree(base);
  }
}

Stream::Stream() = default;

Stream::~Stream() {
  if (stream == nullptr) return;
  (void)gpuSetDevice(device->ordinal);
  gpuStreamCaptureStatus capture = gpuStreamCaptureStatusNone;
  if (gpuStreamIsCapturing(stream, &capture) == gpuSuccess && capture != gpuStreamCaptureStatusNone) {
    gpuGraph_t abandoned = nullptr;
    if (gpuStreamEndCapture(stream, &abandoned) == gpuSuccess && abandoned != nullptr) (void)gpuGraphDestroy(abandoned);
  }
  (void)gpuStreamSynchronize(stream);
  blas.reset();
  (void)gpuStreamDestroy(stream);
  if (error_flag_host != nullptr) (void)gpuFreeHost(error_flag_host);
  (void)gpuGetLastError();
}

Event::~Event() {
  if (event == nullptr) return;
  (void)gpuSetDevice(device->ordinal);
  (void)gpuEventDestroy(event);
}

Graph::~Graph() {
  (void)gpuSetDevice(device->ordinal);
  if (last_launch != nullptr) {
    (void)gpuEventSynchronize(last_launch);  // replays still queued finish first
    (void)gpuEventDestroy(last_launch);
  }
  if (exec != nullptr) (void)gpuGraphExecDestroy(exec);
  if (graph != nullptr) (void)gpuGraphDestroy(graph);
}

}  // namespace plinth::gpu
