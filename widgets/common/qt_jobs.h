// The Qt side of core's jobs: a Post function that delivers a controller's progress and
// results on the GUI thread (through the Qt event loop), and waiting on background work
// while processing events (what tests and --screenshot do).
#pragma once

#include <functional>

#include "core/jobs/job_runner.h"

namespace animerun::widgets {

// Posts to the application's event loop (queued to the GUI thread); callable from any thread.
PostFn QtPost();

// Processes events until busy() turns false or timeout_ms passes, then once more; returns
// !busy().
bool ProcessEventsWhile(const std::function<bool()>& busy, int timeout_ms);

}  // namespace animerun::widgets
