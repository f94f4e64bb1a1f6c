//! # Chapter 05 — the daemon: Docker's Engine API over a unix socket
//!
//! This crate will hold `minidockd`'s insides: an async HTTP server on a unix
//! socket that speaks a subset of the Docker Engine API (version 1.44), the
//! container and image services behind it, the hijacked attach stream with its
//! 8-byte frames, and the client library that the `minidock` CLI and the tests
//! use.
//!
//! It builds on chapters 01–04. It is filled by the chapter 05 issue.
