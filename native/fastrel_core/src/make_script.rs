//! make_script
