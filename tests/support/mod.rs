pub mod client;
pub mod fixture;
pub mod gomitm;
pub mod h2_upstream;
pub mod tools;
