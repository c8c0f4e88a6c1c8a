//! The release tool of the image catalog, as a library so that its tests and benchmarks
//! can drive each step without going through the command line.

pub mod catalog;
pub mod cli;
pub mod package;
