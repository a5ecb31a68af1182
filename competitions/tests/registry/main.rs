//! Integration tests of the competitions crate, linked into one binary: the
//! builtin definitions and schedule lookups, every validation error on a
//! small bad file, and adding a competition through an extra directory.

mod builtin;
mod load_dir;
mod validation;
