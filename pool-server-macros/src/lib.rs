//! Procedural macros for [`pool-server`](https://docs.rs/pool-server).
//!
//! Use them through `pool_server`, which re-exports them; the routing macro
//! itself arrives with the routing work.
