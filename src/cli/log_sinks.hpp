#pragma once

namespace nocturne::cli {

// Makes the default logger write to stderr: with the sd-daemon priority prefix ("<6>" for info,
// "<4>" for warnings ...) and no timestamp when stderr is the systemd journal (JOURNAL_STREAM
// names it), so that `journalctl -p warning` filters by level; in colour otherwise (a terminal, a
// container's log). Called first thing in main().
void log_to_stderr();

}  // namespace nocturne::cli
