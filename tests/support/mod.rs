pub mod fixture;
pub mod gomitm;
pub mod tools;
