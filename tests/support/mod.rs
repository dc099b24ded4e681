pub mod client;
pub mod fixture;
pub mod gomitm;
pub mod h2_upstream;
pub mod sumdb;
pub mod tools;
