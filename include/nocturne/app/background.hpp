#pragma once

#include <functional>
#include <iosfwd>

namespace nocturne::app {

// Runs `daemon` in a background process and reports how its start went, like `systemctl start`:
// the call returns in the parent once the daemon said it is ready (its "ready ..." line is copied
// to `out`, with "pid=<n>"; exit code 0) or once it failed (its one-line error is copied to
// `err`; its exit code). The child detaches (new session, stdin from /dev/null); until it calls
// the `ready` callback it gives it, its stdout and stderr go to the parent, afterwards to
// /dev/null (its logs go to a file). In the child, the function returns the daemon's exit code.
//
// Call before any thread exists (fork copies one thread only).
int start_in_background(const std::function<int(const std::function<void()>& ready)>& daemon,
                        std::ostream& out, std::ostream& err);

}  // namespace nocturne::app
