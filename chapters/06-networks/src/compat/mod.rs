//! The compat part: what Docker's clients need beyond the lesson — the
//! Engine API's shapes and status codes, filters, prune, and reading a
//! container's create request.

pub mod api;
pub mod request;
