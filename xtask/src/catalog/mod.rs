//! Catalog
