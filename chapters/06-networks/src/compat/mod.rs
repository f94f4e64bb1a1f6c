//! The compat part: what Docker's clients need beyond the lesson — the
//! Engine API's shapes and status codes, filters, prune, reading a
//! container's create request, the DNS server that serves the lesson's
//! answers, and the reaper that deletes veths after `run --rm` returned.

pub mod api;
pub mod reaper;
pub mod request;
pub mod resolver;
