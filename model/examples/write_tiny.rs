//! Writes the tiny test models (one directory per architecture variant) into
//! the directory given as the first argument, for cross-checking against
//! transformers (`scripts/reference/tiny_reference.py`).

use std::path::PathBuf;

use gauntlet_model::testing::{tiny_variants, write_tiny_model};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).ok_or("usage: write_tiny OUT_DIR")?);
    for (name, spec) in tiny_variants() {
        write_tiny_model(&out.join(name), &spec)?;
        println!("{}", out.join(name).display());
    }
    Ok(())
}
