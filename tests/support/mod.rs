pub mod fixture;
pub mod tools;
