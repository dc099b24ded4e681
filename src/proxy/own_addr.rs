//! Whether a socket address reaches gomitm's own listening socket: the loop check. Decided on
//! addresses, not on how a client spelled them; also the few spellings that resolve without
//! DNS (IP literals in every form `inet_aton` accepts, `localhost` names), so that a CONNECT
//! can be refused before it is answered.
//!
//! Pure values plus one system call (the local interface addresses); knows nothing of targets,
//! routes or HTTP.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether connecting to `candidate` reaches a socket listening on `listen`.
///
/// What reaches it (checked on Linux): the listening address itself (also as an IPv4-mapped
/// IPv6 address), and an unspecified destination (`0.0.0.0`, `::`), which the kernel sends to
/// the local host. A socket on `0.0.0.0`/`::` is reached through every local address: any
/// loopback address and any interface address. This errs on refusing where the answer
/// depends on the system: any loopback address of either family counts when gomitm listens
/// on a loopback address (on Linux `127.0.0.2` does not reach a socket on `127.0.0.1`, but
/// nothing legitimate listens on another loopback address at gomitm's very port, and a loop
/// costs a connection per lap), and both families count for an unspecified listen address.
pub fn reaches(listen: SocketAddr, candidate: SocketAddr) -> bool {
    if candidate.port() != listen.port() {
        return false;
    }
    let ip = candidate.ip().to_canonical();
    let own = listen.ip().to_canonical();
    if ip == own || ip.is_unspecified() {
        return true;
    }
    if own.is_loopback() {
        return ip.is_loopback();
    }
    if own.is_unspecified() {
        return ip.is_loopback() || local_interface_ips().contains(&ip);
    }
    false
}

/// The addresses `host` stands for without asking DNS: an IP literal (brackets and a trailing
/// dot allowed), an IPv4 address in any form `inet_aton` accepts (`127.1`, `2130706433`,
/// `0x7f.0.0.1`, `0177.0.0.1`), or a `localhost` name (RFC 6761: `localhost`, `*.localhost`,
/// with or without the final dot), which stands for both loopback addresses.
pub fn literal_addresses(host: &str, port: u16) -> Option<Vec<SocketAddr>> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.strip_suffix('.').unwrap_or(host);
    if let Some(ip) = parse_ip_loose(host) {
        return Some(vec![SocketAddr::new(ip, port)]);
    }
    let lower = host.to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return Some(vec![
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port),
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port),
        ]);
    }
    None
}

/// An IP address as the system resolver reads a numeric host: a strict IPv6 or IPv4 literal,
/// or an IPv4 address in the older forms `inet_aton` accepts.
pub fn parse_ip_loose(host: &str) -> Option<IpAddr> {
    match host.parse::<IpAddr>() {
        Ok(ip) => Some(ip),
        Err(_) => parse_inet_aton(host).map(IpAddr::V4),
    }
}

/// `inet_aton`'s IPv4 forms: one to four parts separated by dots, each decimal, octal (a
/// leading `0`) or hexadecimal (`0x`); the last part fills the remaining bytes (`127.1` is
/// 127.0.0.1, `2130706433` is 127.0.0.1). glibc's getaddrinfo reads numeric hosts this way,
/// so these reach the address they decode to.
pub fn parse_inet_aton(host: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = host.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut values = Vec::with_capacity(parts.len());
    for part in &parts {
        values.push(parse_part(part)?);
    }
    let (last, leading) = values.split_last()?;
    if leading.iter().any(|v| *v > 0xff) {
        return None;
    }
    let room = 8 * (4 - leading.len() as u32);
    if room < 32 && *last >= 1u64 << room {
        return None;
    }
    if *last > u64::from(u32::MAX) {
        return None;
    }
    let mut addr: u64 = 0;
    for v in leading {
        addr = (addr << 8) | v;
    }
    addr = (addr << room) | last;
    u32::try_from(addr).ok().map(Ipv4Addr::from)
}

/// One part of an `inet_aton` address; `None` when it is not a number in C notation.
fn parse_part(part: &str) -> Option<u64> {
    let (digits, radix) =
        if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (&part[1..], 8)
        } else {
            (part, 10)
        };
    // inet_aton takes `0x` alone as zero; a value past 32 bits is refused below anyway.
    if digits.is_empty() {
        return (radix == 16).then_some(0);
    }
    if digits.len() > 32 || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// The addresses of this host's network interfaces, for a listen address of `0.0.0.0`/`::`.
/// Read at each check: only a candidate on gomitm's port gets here, and interfaces change.
#[cfg(unix)]
fn local_interface_ips() -> Vec<IpAddr> {
    let mut out = Vec::new();
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list that freeifaddrs releases below;
    // each node and its address are only read while the list is alive.
    unsafe {
        if libc::getifaddrs(&mut list) != 0 {
            return out;
        }
        let mut node = list;
        while !node.is_null() {
            let addr = (*node).ifa_addr;
            if !addr.is_null() {
                match i32::from((*addr).sa_family) {
                    libc::AF_INET => {
                        let sin = &*(addr as *const libc::sockaddr_in);
                        out.push(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                            sin.sin_addr.s_addr,
                        ))));
                    }
                    libc::AF_INET6 => {
                        let sin6 = &*(addr as *const libc::sockaddr_in6);
                        out.push(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)));
                    }
                    _ => {}
                }
            }
            node = (*node).ifa_next;
        }
        libc::freeifaddrs(list);
    }
    out
}

#[cfg(not(unix))]
fn local_interface_ips() -> Vec<IpAddr> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn inet_aton_forms_decode_as_the_system_resolver_does() {
        let lo = Some(Ipv4Addr::LOCALHOST);
        for text in [
            "127.0.0.1",
            "127.1",
            "127.0.1",
            "2130706433",
            "0x7f000001",
            "0X7F000001",
            "0x7f.0.0.1",
            "0x7f.1",
            "0177.0.0.1",
            "0177.1",
            "127.000.000.001",
            "0x7f.0x0.0x0.0x1",
        ] {
            assert_eq!(parse_inet_aton(text), lo, "{text}");
        }
        assert_eq!(parse_inet_aton("0"), Some(Ipv4Addr::UNSPECIFIED));
        assert_eq!(
            parse_inet_aton("10.1.258"),
            Some(Ipv4Addr::new(10, 1, 1, 2))
        );
        for bad in [
            "",
            ".",
            "127.0.0.1.1",
            "256.0.0.1",
            "127.0.0.256",
            "127.16777216",
            "4294967296",
            "08.0.0.1",
            "0x7g.0.0.1",
            "1e3",
            "example.test",
            "127..1",
            "-1",
            "+1",
            " 127.0.0.1",
        ] {
            assert_eq!(parse_inet_aton(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn literal_addresses_cover_brackets_dots_and_localhost_names() {
        let p = 8080;
        assert_eq!(
            literal_addresses("[::ffff:127.0.0.1]", p),
            Some(vec![sa("[::ffff:127.0.0.1]:8080")])
        );
        assert_eq!(
            literal_addresses("127.1", p),
            Some(vec![sa("127.0.0.1:8080")])
        );
        assert_eq!(
            literal_addresses("127.0.0.1.", p),
            Some(vec![sa("127.0.0.1:8080")])
        );
        for name in ["localhost", "LOCALHOST.", "gomitm.localhost"] {
            let addrs = literal_addresses(name, p).unwrap();
            assert!(addrs.contains(&sa("127.0.0.1:8080")), "{name}");
            assert!(addrs.contains(&sa("[::1]:8080")), "{name}");
        }
        for name in ["example.test", "localhost.example", "vm", "abc"] {
            assert_eq!(literal_addresses(name, p), None, "{name}");
        }
    }

    #[test]
    fn what_reaches_a_loopback_listener() {
        let listen = sa("127.0.0.1:8080");
        for c in [
            "127.0.0.1:8080",
            "127.0.0.2:8080",
            "127.255.255.254:8080",
            "0.0.0.0:8080",
            "[::]:8080",
            "[::1]:8080",
            "[::ffff:127.0.0.1]:8080",
            "[::ffff:0.0.0.0]:8080",
        ] {
            assert!(reaches(listen, sa(c)), "{c}");
        }
        for c in [
            "127.0.0.1:8081",
            "0.0.0.0:80",
            "192.0.2.1:8080",
            "[2001:db8::1]:8080",
            "[::ffff:192.0.2.1]:8080",
        ] {
            assert!(!reaches(listen, sa(c)), "{c}");
        }
        let v6 = sa("[::1]:8080");
        assert!(reaches(v6, sa("[::1]:8080")));
        assert!(reaches(v6, sa("127.0.0.1:8080")));
        assert!(!reaches(v6, sa("[::1]:9")));
    }

    #[test]
    fn what_reaches_an_unspecified_or_specific_listener() {
        for any in ["0.0.0.0:8080", "[::]:8080"] {
            let listen = sa(any);
            for c in [
                "127.0.0.1:8080",
                "127.9.9.9:8080",
                "[::1]:8080",
                "0.0.0.0:8080",
                "[::]:8080",
            ] {
                assert!(reaches(listen, sa(c)), "{c} on {any}");
            }
            for ip in local_interface_ips() {
                assert!(
                    reaches(listen, SocketAddr::new(ip, 8080)),
                    "interface {ip} on {any}"
                );
                assert!(!reaches(listen, SocketAddr::new(ip, 8081)));
            }
            assert!(
                !reaches(listen, sa("192.0.2.200:8080"))
                    || local_interface_ips().contains(&"192.0.2.200".parse().unwrap())
            );
        }
        let specific = sa("192.0.2.7:8080");
        assert!(reaches(specific, sa("192.0.2.7:8080")));
        assert!(reaches(specific, sa("[::ffff:192.0.2.7]:8080")));
        assert!(reaches(specific, sa("0.0.0.0:8080")), "errs on refusing");
        assert!(!reaches(specific, sa("192.0.2.8:8080")));
        assert!(!reaches(specific, sa("127.0.0.1:8080")));
    }

    #[test]
    fn loopback_is_among_the_interface_addresses() {
        if cfg!(unix) {
            assert!(local_interface_ips().iter().any(IpAddr::is_loopback));
        }
    }
}
