//! # Chapter 03 — lifecycle: containers with state, resources and logs
//!
//! This crate will hold the container as Docker's state diagram sees it:
//! create → created; start → running; pause ⇄ unpause; stop / kill → exited;
//! restart; rm → deleted.
//!
//! It will hold the container model (id, name, config merged from the image
//! config and the user's options), the state machine with its state on disk,
//! the shim that supervises one container and writes its json-file log, and
//! cgroups v1 and v2 behind one interface for memory, CPU, pids and the freezer.
//!
//! It builds on chapter 01 (the isolated process) and chapter 02 (the image
//! and its overlay rootfs). It is filled by the chapter 03 issue.
