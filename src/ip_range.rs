//! Remote IP ranges of receive connectors (`RemoteIPRanges`, Exchange's `IPRange`), in the
//! three forms Set-ReceiveConnector documents: a single address (`192.168.1.1`,
//! `fe80::39bd:88f7:6969:d223%11`), a range (`192.168.1.1-192.168.1.254`) and a CIDR range
//! (`192.168.1.1/24`, `2001:0DB8::CD3/60`).
//!
//! Addresses are kept as 128-bit numbers with IPv4 mapped into IPv6 (`::ffff:a.b.c.d`), as
//! Exchange's `IPvxAddress` keeps them, so one ordering covers both families and the default
//! range `::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff` contains every IPv4 address too.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// An inclusive range of addresses, with the text it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpRange {
    pub lower: u128,
    pub upper: u128,
    /// The expression as exported (`0.0.0.0-255.255.255.255`, `10.0.0.0/8`, `192.0.2.7`).
    pub text: String,
}

const V4_MAPPED: u128 = 0xffff_0000_0000;

fn number(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(v4) => V4_MAPPED | u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// An address, without an IPv6 zone index (`%11`), which says which local interface and not
/// which remote host.
fn address(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    let text = match text.split_once('%') {
        Some((address, zone)) if !zone.is_empty() && zone.chars().all(|c| c.is_ascii_alphanumeric()) => {
            address
        }
        Some(_) => return None,
        None => text,
    };
    let text = text.trim_start_matches('[').trim_end_matches(']');
    text.parse().ok()
}

impl IpRange {
    /// Parses one documented expression; None for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let trimmed = text.trim();
        let (lower, upper) = if let Some((base, length)) = trimmed.split_once('/') {
            let base = address(base)?;
            let length: u32 = length.trim().parse().ok()?;
            // An IPv4 prefix counts from the mapped address's 96 leading bits.
            let (value, length) = match base {
                IpAddr::V4(_) if length <= 32 => (number(base), 96 + length),
                IpAddr::V6(_) if length <= 128 => (number(base), length),
                _ => return None,
            };
            let host_mask = u128::MAX.checked_shr(length).unwrap_or(0);
            (value & !host_mask, value | host_mask)
        } else if let Some((low, high)) = trimmed.split_once('-') {
            let (low, high) = (address(low)?, address(high)?);
            if low.is_ipv4() != high.is_ipv4() {
                return None;
            }
            (number(low), number(high))
        } else {
            let single = number(address(trimmed)?);
            (single, single)
        };
        (lower <= upper).then(|| IpRange {
            lower,
            upper,
            text: trimmed.to_owned(),
        })
    }

    /// A range from its two bounds, as Exchange's `LowerBound` and `UpperBound` write them.
    pub fn from_bounds(lower: &str, upper: &str) -> Option<Self> {
        let (low, high) = (address(lower)?, address(upper)?);
        let (lower, upper) = (number(low), number(high));
        (lower <= upper).then(|| IpRange {
            lower,
            upper,
            text: if lower == upper {
                low.to_string()
            } else {
                format!("{low}-{high}")
            },
        })
    }

    /// How many addresses, less one (so the whole IPv6 space fits).
    pub fn span(&self) -> u128 {
        self.upper - self.lower
    }

    pub fn contains(&self, other: &IpRange) -> bool {
        self.lower <= other.lower && other.upper <= self.upper
    }

    pub fn contains_address(&self, address: u128) -> bool {
        self.lower <= address && address <= self.upper
    }

    pub fn overlaps(&self, other: &IpRange) -> bool {
        self.lower <= other.upper && other.lower <= self.upper
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The number of an address, for a remote address given as text (tests, protocol logs).
pub fn address_number(text: &str) -> Option<u128> {
    address(text).map(number)
}

/// The text of an address number, IPv4 when it is mapped.
pub fn address_text(value: u128) -> String {
    let v6 = Ipv6Addr::from(value);
    match v6.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => v6.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> IpRange {
        IpRange::parse(text).unwrap_or_else(|| panic!("{text}"))
    }

    #[test]
    fn the_documented_forms_parse() {
        let all_v4 = range("0.0.0.0-255.255.255.255");
        let all_v6 = range("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
        assert!(all_v6.contains(&all_v4), "IPv4 is mapped into the IPv6 space");
        assert_eq!(all_v4.span(), u128::from(u32::MAX));
        let cidr = range("192.168.1.1/24");
        assert_eq!(address_text(cidr.lower), "192.168.1.0");
        assert_eq!(address_text(cidr.upper), "192.168.1.255");
        assert_eq!(range("10.0.0.0/8").span(), (1 << 24) - 1);
        assert_eq!(
            range("0.0.0.0/0"),
            IpRange {
                text: "0.0.0.0/0".into(),
                ..all_v4.clone()
            }
        );
        let single = range("192.168.1.75");
        assert_eq!(single.span(), 0);
        assert!(cidr.contains(&single));
        let v6 = range("2001:0DB8::CD3/60");
        assert_eq!(v6.span(), (1u128 << 68) - 1);
        assert_eq!(range("fe80::39bd:88f7:6969:d223%11").span(), 0);
        assert_eq!(range("2001:db8::1/128").span(), 0);
        assert!(range("40.107.0.0/16").overlaps(&range("40.107.5.0-40.107.5.9")));
        assert!(!range("40.107.0.0/16").overlaps(&range("10.0.0.0/8")));
    }

    #[test]
    fn other_text_is_refused() {
        for bad in [
            "",
            "mail.contoso.com",
            "10.0.0.1-",
            "10.0.0.9-10.0.0.1",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.1-::1",
            "300.1.1.1",
            "fe80::1%",
            "fe80::1%1\u{202e}",
        ] {
            assert_eq!(IpRange::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn bounds_read_like_the_expression() {
        let bounds = IpRange::from_bounds("10.0.0.0", "10.255.255.255").unwrap();
        assert_eq!(bounds.lower, range("10.0.0.0/8").lower);
        assert_eq!(bounds.upper, range("10.0.0.0/8").upper);
        assert_eq!(bounds.text, "10.0.0.0-10.255.255.255");
        assert_eq!(IpRange::from_bounds("10.0.0.9", "10.0.0.1"), None);
    }
}
