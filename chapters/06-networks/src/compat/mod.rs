//! The compat part: what Docker's clients need beyond the lesson — the
//! Engine API's shapes and status codes, filters, prune, reading a
//! container's create request, and the DNS server that serves the
//! lesson's answers.

pub mod api;
pub mod request;
pub mod resolver;
