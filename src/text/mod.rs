//! Text as people read it: untrusted text made safe to print, and numbers and durations
//! written for people.

pub mod format;
pub mod sanitize;
