#include "plinth/graph.hpp"

#include <fmt/format.h>

#include "plinth/error.hpp"
#include "plinth/stream.hpp"
#include "state.hpp"

namespace plinth {
namespace detail {

GraphState::~GraphState() {
  if (native != nullptr && !device->closed) device->api().graph_destroy(native);
  device->live_graphs -= 1;
  device->untrack(id);
}

}  // namespace detail

Graph::Graph(std::shared_ptr<detail::GraphState> state) noexcept : state_(std::move(state)) {}
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;
Graph::~Graph() = default;

bool Graph::emulated() const {
  if (!state_) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "empty Graph", "Graph::emulated");
  return state_->native == nullptr;
}

std::size_t Graph::num_commands() const {
  if (!state_) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "empty Graph", "Graph::num_commands");
  return state_->commands.size();
}

void Graph::launch(Stream& stream) {
  if (!state_) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "empty Graph (moved from or default-constructed)", "graph_launch");
  const auto& s = stream.state();
  if (!s) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "empty Stream", "graph_launch");
  auto& dev = *state_->device;
  dev.ensure_usable("graph_launch");
  if (s->device != state_->device) {
    throw Error(PLINTH_ERROR_INVALID_ARGUMENT,
                fmt::format("graph #{} belongs to {}, the stream to {}", state_->id, dev.id, s->device->id),
                "graph_launch", dev.id);
  }
  if (state_->native != nullptr) {
    dev.check(dev.api().graph_launch(state_->native, s->handle), "graph_launch");
    return;
  }
  // Emulation: replay through the ordinary paths, so validation, faults and fallbacks apply as if
  // the work had been submitted again.
  for (const auto& c : state_->commands) {
    switch (c.kind) {
      case detail::Command::Kind::op: detail::stream_launch(s, c.call); break;
      case detail::Command::Kind::upload: detail::stream_upload(s, c.host_src, c.dst, c.dst_offset, c.size); break;
      case detail::Command::Kind::download: detail::stream_download(s, c.src, c.src_offset, c.host_dst, c.size); break;
      case detail::Command::Kind::copy:
        detail::stream_copy(s, c.src, c.src_offset, c.dst, c.dst_offset, c.size);
        break;
      case detail::Command::Kind::record: detail::stream_record(s, c.event); break;
      case detail::Command::Kind::wait: detail::stream_wait(s, c.event); break;
    }
  }
}

}  // namespace plinth
