//! Contact search: folding, index, query language, matcher, worker.
