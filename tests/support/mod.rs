//! Helpers shared by the integration tests. Each test binary includes this with `mod support;`
//! and uses only part of it, hence the `dead_code` allowance in the submodules.

pub mod cli;
pub mod generated;
pub mod nrbf;
pub mod org;
pub mod powershell;
pub mod ps_check;
pub mod pwsh;
pub mod schema;
pub mod smtp_log;
pub mod starttls;
pub mod tls_settings;
pub mod tools;
