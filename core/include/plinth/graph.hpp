// Graph: a captured sequence of stream work replayed with one call. Uses the plugin's native graph
// entries when it has them; otherwise the core emulates capture by recording every operation
// submitted to the capturing stream (op calls with their tensors and parameters copied, copies,
// event records and waits) and replays them in order on launch, through the same checks as direct
// submission. The caller keeps the buffers a graph uses alive while it may be launched (with
// validation on, a replay that touches a freed buffer is an Error); host pointers given to captured
// copies must stay valid for every replay.
#pragma once

#include <cstddef>
#include <memory>

#include "plinth/export.hpp"

namespace plinth {

class Stream;
namespace detail {
struct GraphState;
}

class PLINTH_CORE_API Graph {
 public:
  Graph() = default;
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  ~Graph();

  explicit operator bool() const noexcept { return state_ != nullptr; }
  bool emulated() const;          // true when the core replays a recorded list
  std::size_t num_commands() const;  // recorded operations (emulated graphs; 0 for native ones)
  void launch(Stream& stream);    // any stream of the graph's device

  explicit Graph(std::shared_ptr<detail::GraphState> state) noexcept;

 private:
  std::shared_ptr<detail::GraphState> state_;
};

}  // namespace plinth
