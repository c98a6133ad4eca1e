//! `HOST[:PORT]` as the command line gives it, and the connection to it.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;

use super::{Deadline, Phase, ProbeError};

/// The port Exchange Online delivers to.
pub const SMTP_PORT: u16 = 25;

/// The server to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: Host,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A DNS name, lowercase, without a trailing dot.
    Name(String),
    Address(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(name) => f.write_str(name),
            Host::Address(IpAddr::V6(address)) => write!(f, "[{address}]"),
            Host::Address(address) => write!(f, "{address}"),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

impl Target {
    /// Reads `HOST[:PORT]`: a DNS name, an IPv4 address, or an IPv6 address (in brackets when a
    /// port follows, `[2001:db8::25]:25`); port 25 when none is given.
    ///
    /// # Errors
    /// A sentence that says what is wrong and what a valid target looks like.
    pub fn parse(text: &str) -> Result<Target, String> {
        let text = text.trim();
        let example = "give HOST or HOST:PORT, e.g. mail.contoso.com, 203.0.113.25:25 or [2001:db8::25]:25";
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (inside, after) = rest.split_once(']').ok_or_else(|| {
                format!("{text:?} opens an IPv6 address with [ but does not close it; {example}")
            })?;
            let address: Ipv6Addr = inside
                .parse()
                .map_err(|_| format!("{inside:?} in brackets is not an IPv6 address; {example}"))?;
            let port =
                match after {
                    "" => None,
                    _ => Some(after.strip_prefix(':').ok_or_else(|| {
                        format!("{text:?} has {after:?} after the IPv6 address; {example}")
                    })?),
                };
            (Host::Address(IpAddr::V6(address)), port)
        } else if let Ok(address) = text.parse::<Ipv6Addr>() {
            (Host::Address(IpAddr::V6(address)), None)
        } else {
            let (host, port) = match text.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (text, None),
            };
            (parse_host(host).map_err(|e| format!("{e}; {example}"))?, port)
        };
        let port = match port {
            None => SMTP_PORT,
            Some(port) => parse_port(port)?,
        };
        Ok(Target { host, port })
    }
}

fn parse_port(text: &str) -> Result<u16, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "port {text:?} is not a number; give a port from 1 to 65535 (Exchange Online delivers to 25)"
        ));
    }
    match text.parse::<u64>() {
        Ok(port @ 1..=65535) => Ok(port as u16),
        _ => Err(format!(
            "port {text} is out of range; give a port from 1 to 65535 (Exchange Online delivers to 25)"
        )),
    }
}

fn parse_host(text: &str) -> Result<Host, String> {
    if let Ok(address) = text.parse::<IpAddr>() {
        return Ok(Host::Address(address));
    }
    let name = text.strip_suffix('.').unwrap_or(text);
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(format!("{text:?} is neither a host name nor an IP address"));
    }
    Ok(Host::Name(name.to_ascii_lowercase()))
}

/// The addresses of `target`, in the resolver's order. A name is resolved on a thread of its
/// own, so that a resolver that never answers cannot hold the probe past its deadline.
///
/// # Errors
/// The name does not resolve (a `.invalid` name never does, RFC 6761, and is refused without
/// asking), or the resolver did not answer in time.
pub fn resolve(target: &Target, deadline: &Deadline) -> Result<Vec<SocketAddr>, ProbeError> {
    let name = match &target.host {
        Host::Address(address) => return Ok(vec![SocketAddr::new(*address, target.port)]),
        Host::Name(name) => name.clone(),
    };
    let hint = "check the name (the smart host or MX Exchange Online sends to), or give the server's IP address and the name the certificate must cover with --fqdn";
    if name == "invalid" || name.ends_with(".invalid") {
        return Err(ProbeError::new(
            format!("{name} does not resolve: .invalid is reserved and never resolves (RFC 6761)"),
            hint,
        ));
    }
    let (sender, receiver) = mpsc::channel();
    let port = target.port;
    let lookup = name.clone();
    std::thread::spawn(move || {
        let _ = sender.send((lookup.as_str(), port).to_socket_addrs().map(Vec::from_iter));
    });
    match receiver.recv_timeout(deadline.remaining(Phase::Resolving)?) {
        Ok(Ok(addresses)) if !addresses.is_empty() => Ok(addresses),
        Ok(Ok(_)) => Err(ProbeError::new(
            format!("{name} does not resolve: no address"),
            hint,
        )),
        Ok(Err(e)) => Err(ProbeError::new(format!("{name} does not resolve: {e}"), hint)),
        Err(_) => Err(deadline.expired(Phase::Resolving)),
    }
}

/// A connection to the first of `addresses` that accepts one.
///
/// # Errors
/// Every address refused, did not answer in time, or could not be reached.
pub fn connect(addresses: &[SocketAddr], deadline: &Deadline) -> Result<(TcpStream, SocketAddr), ProbeError> {
    let mut failures = Vec::new();
    for address in addresses {
        match TcpStream::connect_timeout(address, deadline.remaining(Phase::Connecting)?) {
            Ok(stream) => {
                // The probe writes a few short lines and waits for each answer.
                let _ = stream.set_nodelay(true);
                return Ok((stream, *address));
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                return Err(deadline.expired(Phase::Connecting));
            }
            Err(e) => failures.push((*address, e)),
        }
    }
    let refused = failures
        .iter()
        .all(|(_, e)| e.kind() == std::io::ErrorKind::ConnectionRefused);
    let listing = failures
        .iter()
        .map(|(address, e)| {
            if refused {
                address.to_string()
            } else {
                format!("{address} ({e})")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    Err(if refused {
        ProbeError::new(
            format!("connection refused by {listing}: nothing listens on that port, or a firewall rejects the connection"),
            "check the port (Exchange Online delivers to 25) and that the transport service runs (Get-Service MSExchangeFrontEndTransport, or MSExchangeTransport on an Edge server)",
        )
    } else {
        ProbeError::new(
            format!("cannot connect: {listing}"),
            "check the address and the route to it from where you probe",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Target {
        Target::parse(text).unwrap()
    }

    #[test]
    fn reads_names_addresses_and_ports() {
        assert_eq!(
            parse("Mail.Contoso.com."),
            Target {
                host: Host::Name("mail.contoso.com".into()),
                port: 25
            }
        );
        assert_eq!(parse("mail.contoso.com:2525").port, 2525);
        assert_eq!(
            parse("127.0.0.1:25").host,
            Host::Address("127.0.0.1".parse().unwrap())
        );
        assert_eq!(
            parse("[::1]:2525"),
            Target {
                host: Host::Address("::1".parse().unwrap()),
                port: 2525
            }
        );
        assert_eq!(parse("[2001:db8::25]").port, 25);
        assert_eq!(
            parse("2001:db8::25").host,
            Host::Address("2001:db8::25".parse().unwrap())
        );
        assert_eq!(parse("[::1]:2525").to_string(), "[::1]:2525");
    }

    #[test]
    fn refuses_what_is_no_target_and_says_why() {
        for (text, says) in [
            ("mail.contoso.com:70000", "out of range"),
            ("mail.contoso.com:0", "out of range"),
            ("mail.contoso.com:99999999999999999999999", "out of range"),
            ("mail.contoso.com:smtp", "not a number"),
            ("mail.contoso.com:", "not a number"),
            ("[::1", "does not close"),
            ("[mail]:25", "not an IPv6 address"),
            ("[::1]x", "after the IPv6 address"),
            ("mail contoso", "neither a host name"),
            ("", "neither a host name"),
            ("-mail.contoso.com", "neither a host name"),
        ] {
            let error = Target::parse(text).unwrap_err();
            assert!(error.contains(says), "{text:?}: {error}");
        }
    }
}
