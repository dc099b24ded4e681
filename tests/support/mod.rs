pub mod client;
pub mod connect_proxy;
pub mod fixture;
pub mod gomitm;
pub mod h2_upstream;
pub mod run;
pub mod sumdb;
pub mod tools;
