//! Fuzzes the MS-NRBF reader (src/input/nrbf.rs) on its own and as the CLIXML reader calls it
//! for a Get-ExchangeCertificate object's SerializationData: any bytes give an answer or an
//! error at an offset inside the blob (at a line and column in the CLIXML), never a panic.
//! Run (nightly): cargo +nightly fuzz run nrbf fuzz/corpus/nrbf fuzz/seeds/nrbf
#![no_main]

use base64::Engine;
use hybridtls::input::{clixml, nrbf};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = nrbf::Stream::parse(data) {
        assert!(e.offset <= data.len(), "{e}");
    }
    // With no RawData, and with one that CertData must equal.
    for raw_data in [None, data.get(data.len() / 2..)] {
        if let Err(e) = nrbf::exchange_certificate_properties(data, raw_data) {
            assert!(e.offset <= data.len(), "{e}");
        }
    }
    let document = format!(
        "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">\r\n  <Obj RefId=\"0\">\r\n    <TN RefId=\"0\"><T>{}</T></TN>\r\n    <Props />\r\n    <MS>\r\n      <BA N=\"SerializationData\">{}</BA>\r\n    </MS>\r\n  </Obj>\r\n</Objs>",
        nrbf::EXCHANGE_CERTIFICATE,
        base64::engine::general_purpose::STANDARD.encode(data)
    );
    if let Err(e) = clixml::parse_records("fuzz.xml", &document) {
        assert!(e.position.is_some(), "{e}");
    }
});
