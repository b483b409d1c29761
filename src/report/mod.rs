//! Reporters: findings (and, for `parse`, events) turned into what a user reads.

pub mod events;
pub mod human;
pub mod json;
