//! The release tool of the image catalog, as a library so that its tests and benchmarks
//! can drive each step without going through the command line.

pub mod catalog;
pub mod changes;
pub mod cli;
pub mod image;
pub mod imagetest;
pub mod oci;
pub mod offline;
pub mod package;
pub mod publish;
pub mod readme;
pub mod registry;
pub mod release;
pub mod sign;
