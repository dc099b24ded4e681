pub mod client;
pub mod connect_proxy;
pub mod fixture;
pub mod gomitm;
pub mod h2_upstream;
pub mod tools;
