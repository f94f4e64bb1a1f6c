//! The compat part: what Docker's clients need beyond the lesson.
