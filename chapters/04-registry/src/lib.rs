//! # Chapter 04 — registry: pull and push over the OCI distribution API
//!
//! This crate will hold the client side of the OCI distribution API: the
//! `WWW-Authenticate` challenge and its Bearer or Basic answer, manifest
//! negotiation (OCI index and manifest, Docker manifest list and v2), platform
//! selection, blob download streamed and verified into the chapter 02 content
//! store, and push (HEAD, POST, PUT, cross-repository mounts).
//!
//! It builds on chapter 02 (the content store). It is filled by the chapter 04
//! issue.
