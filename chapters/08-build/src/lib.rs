//! # Chapter 08 — build: images from a Dockerfile
//!
//! Docker is "specialised in creating and distributing images". This
//! chapter makes them: `docker build` reads a Dockerfile and a context of
//! files, runs each step in a container of chapter 3 and turns what it
//! changed into a layer of chapter 2.
//!
//! The lesson, in reading order:
//! - [`dockerfile`]: the text, its directives, lines and instructions;
//! - [`substitute`]: `$VAR` and `${VAR:-word}` in instructions;
//! - [`dockerignore`]: the files a build never sees;
//! - [`context`]: receiving the context tar without trusting it;
//! - [`copy`]: what COPY and ADD copy, and the hash of it;
//! - [`cache`]: the classic builder's cache key;
//! - [`diff`]: a container's upper directory as a layer, whiteouts and all;
//! - [`image`]: the config and layers committed after each step;
//! - [`builder`]: what every build shares (runtime, store, cache), what a
//!   build is asked for and what it reports;
//! - [`stage`], [`config`] and [`step`]: a stage and what each
//!   instruction does to it;
//! - [`stages`]: the build itself, stage after stage.
//!
//! The compat part ([`compat`]): what Docker's clients need beyond the
//! lesson — the daemon plugin (`POST /build`'s JSON stream, `commit`,
//! `export`, `import --change`).

pub mod builder;
pub mod cache;
pub mod compat;
pub mod config;
pub mod context;
pub mod copy;
pub mod diff;
pub mod dockerfile;
pub mod dockerignore;
mod error;
pub mod image;
pub mod stage;
pub mod stages;
pub mod step;
pub mod substitute;

pub use builder::{BuildOptions, Builder, Message};
pub use error::{Error, Result};
