//! The reports `rolo report` prints and the dashboard draws: each a function of the store and
//! options, returning plain serde data (filled in with the store's per-customer summaries).
