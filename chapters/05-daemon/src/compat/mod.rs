//! What real clients need from the daemon that the chapter's lesson does not
//! walk through: [`update`] (`docker update`).

pub mod update;
