//! minidock's workbook: the learner's side of the book.
//!
//! The chapters' reference code marks exercises in place (see [`exercise`]). The workbook turns
//! a chapter into exercises (`start`), runs its tests and says how far the learner has come
//! (`check`), hands out hints and solutions, and proves for maintainers that every exercise is
//! guarded by a test (`verify`). The binary `minidock-workbook` (`cargo workbook`) is a thin
//! command line over [`commands`].

pub mod book;
pub mod commands;
pub mod exercise;
pub mod explain;
pub mod git;
pub mod guards;
pub mod progress;
pub mod reference;
pub mod signals;
pub mod state;
pub mod testrun;
pub mod tryit;
pub mod workspace;
