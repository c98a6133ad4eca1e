//! The collector's `tls-settings.json` of a healthy server (HT050 to HT054 find nothing): TLS
//! 1.0 and 1.1 disabled, TLS 1.2 enabled, TLS 1.3 not set, .NET set to strong crypto, Exchange
//! 2019 CU14 on Windows Server 2019.
#![allow(dead_code)]

use serde_json::{json, Value};

/// The settings object of `server`, as the collector writes it (one object of the array).
pub fn healthy(server: &str) -> Value {
    let mut settings = json!({
        "ComputerName": server, "OSVersion": "10.0.17763.0",
        "ExchangeVersion": "Version 15.2 (Build 1544.4)",
        "TlsCipherSuites": ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]
    });
    for (name, version, _, value) in hybridtls::model::SCHANNEL_VALUES {
        settings[*name] = match (*version, *value) {
            ("1.3", _) => Value::Null,
            ("1.2", "Enabled") | ("1.0" | "1.1", "DisabledByDefault") => 1.into(),
            _ => 0.into(),
        };
    }
    for (name, ..) in hybridtls::model::NET_VALUES {
        settings[*name] = 1.into();
    }
    settings
}

/// Writes the healthy settings of `server` to `dir/tls-settings.json`.
pub fn write_healthy(dir: &std::path::Path, server: &str) {
    let text = serde_json::to_string_pretty(&json!([healthy(server)])).unwrap();
    std::fs::write(dir.join("tls-settings.json"), text).unwrap();
}

/// The collector's `exchange-events.json` of a server that logged none of the events.
pub fn write_no_events(dir: &std::path::Path) {
    std::fs::write(dir.join("exchange-events.json"), "[]").unwrap();
}
