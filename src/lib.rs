//! `quant-session`: checks that quant workers (LLM agent sessions) follow the session
//! protocol of the "Quant Session Management" skill.
//!
//! The pipeline, one module per stage: bytes → [`frame`] (lines, escape sequences,
//! prefixes) → [`grammar`] (typed markers) → [`event`] → [`scan`] drives the two over a
//! chunked stream.

pub mod baseline;
pub mod checkpoint;
pub mod cli;
pub mod command;
pub mod config;
pub mod diagnostic;
pub mod duration;
pub mod error;
pub mod event;
pub mod finding;
pub mod follow;
pub mod format;
pub mod frame;
pub mod fuzz;
pub mod grammar;
pub mod interrupt;
pub mod pipeline;
pub mod postmortem;
pub mod prefix;
pub mod replay;
pub mod report;
pub mod rule;
pub mod rules;
pub mod sanitize;
pub mod scan;
pub mod session;
pub mod sink;
pub mod source;
pub mod state;
pub mod summary;
pub mod text;
pub mod timeline;
pub mod usage;
