//! Which endpoint URLs and addresses a webhook may call, so that a webhook cannot be used to
//! reach the operator's internal network.
//!
//! A URL is checked when it is registered ([`AddressPolicy::check_url`]: `https` unless dev
//! mode allows `http`, a host, no credentials, and a literal IP address must be allowed), and
//! every address a host name resolves to is checked again at each delivery
//! ([`AddressPolicy::allows`]), the connection then going to the checked address. Refused
//! unless private addresses are allowed (`webhooks.allow_private_addresses`, which
//! `honnin dev` sets): unspecified, loopback, link-local, private (RFC 1918), unique-local,
//! shared/CGNAT (100.64.0.0/10), multicast, broadcast, benchmarking, documentation and
//! reserved ranges, the IETF protocol block, the deprecated site-local IPv6 range, and IPv6
//! addresses that embed an IPv4 one (mapped, compatible, NAT64) carrying any of those.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// What an endpoint URL may be and which addresses it may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddressPolicy {
    /// Allow `http://` (dev mode only); otherwise `https://` is required.
    pub allow_http: bool,
    /// Allow loopback, private and the other non-public addresses (dev mode, tests).
    pub allow_private: bool,
}

/// Why an endpoint URL or address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    /// Not an absolute URL, or longer than [`MAX_URL_LEN`].
    #[error("not an absolute URL of at most 2048 characters")]
    Malformed,
    /// Not `https://` (nor `http://` where allowed).
    #[error("the URL must be https:// (http:// only in dev mode)")]
    Scheme,
    /// User name or password in the URL.
    #[error("the URL must not carry a user name or password")]
    Credentials,
    /// No host.
    #[error("the URL must name a host")]
    NoHost,
    /// A loopback, private, link-local or other non-public address.
    #[error("the address is not a public one (loopback, private, link-local, …)")]
    AddressNotAllowed,
}

/// An endpoint URL that passed [`AddressPolicy::check_url`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

impl WebhookUrl {
    /// The URL as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The literal IP address the URL names, if it names one instead of a host name.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.0.host()? {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            url::Host::Domain(_) => None,
        }
    }
}

impl AddressPolicy {
    /// Checks an endpoint URL: absolute, `https` (or `http` where allowed), a host, no
    /// credentials; a literal IP address must be [allowed](Self::allows). Host names are
    /// checked when they are resolved, at delivery.
    pub fn check_url(&self, text: &str) -> Result<WebhookUrl, UrlRefusal> {
        if text.len() > MAX_URL_LEN {
            return Err(UrlRefusal::Malformed);
        }
        let url = url::Url::parse(text).map_err(|_| UrlRefusal::Malformed)?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ => return Err(UrlRefusal::Scheme),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlRefusal::Credentials);
        }
        let url = WebhookUrl(url);
        match url.0.host() {
            None => return Err(UrlRefusal::NoHost),
            Some(url::Host::Domain("")) => return Err(UrlRefusal::NoHost),
            Some(_) => {}
        }
        if let Some(ip) = url.ip()
            && !self.allows(ip)
        {
            return Err(UrlRefusal::AddressNotAllowed);
        }
        Ok(url)
    }

    /// Whether a delivery may connect to `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip)
    }
}

/// Whether `ip` is a public unicast address (see the [module](self) for what is not).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => is_public_v6(ip),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0 // "this network", unspecified
        || a == 10 // private
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || a == 127 // loopback
        || (a == 169 && b == 254) // link-local
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast (deprecated)
        || (a == 192 && b == 168) // private
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224; // multicast, reserved, broadcast
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let refused = ip.is_unspecified()
        || ip.is_loopback()
        || (segments[0] & 0xffc0) == 0xfe80 // link-local
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (segments[0] & 0xfe00) == 0xfc00 // unique-local
        || (segments[0] & 0xff00) == 0xff00 // multicast
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x0100 && segments[1..4] == [0, 0, 0]) // discard-only
        || (segments[0] == 0x2002); // 6to4: the embedded IPv4 address decides, refuse outright
    !refused
}

/// The IPv4 address an IPv6 address carries: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible
/// (`::a.b.c.d`, not `::` or `::1`) or NAT64 (`64:ff9b::a.b.c.d`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..5] == [0; 5] && s[5] == 0xffff {
        return Some(tail);
    }
    if s[..6] == [0; 6] && !ip.is_unspecified() && !ip.is_loopback() {
        return Some(tail);
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4] {
        return Some(tail);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRODUCTION: AddressPolicy = AddressPolicy { allow_http: false, allow_private: false };

    #[test]
    fn refuses_every_non_public_range() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.1.2.3",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.1.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "100::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_public(ip), "{ip} must be refused");
            assert!(!PRODUCTION.allows(ip));
            assert!(AddressPolicy { allow_http: false, allow_private: true }.allows(ip));
        }
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.0.1",
            "172.32.0.1",
            "192.169.0.1",
            "198.20.0.1",
            "223.255.255.254",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_public(ip), "{ip} is public");
        }
    }

    #[test]
    fn checks_urls() {
        assert!(PRODUCTION.check_url("https://hooks.example.com/honnin?x=1").is_ok());
        assert_eq!(PRODUCTION.check_url("http://hooks.example.com/"), Err(UrlRefusal::Scheme));
        assert_eq!(PRODUCTION.check_url("ftp://hooks.example.com/"), Err(UrlRefusal::Scheme));
        assert_eq!(PRODUCTION.check_url("hooks.example.com"), Err(UrlRefusal::Malformed));
        assert_eq!(
            PRODUCTION.check_url("https://user:pw@hooks.example.com/"),
            Err(UrlRefusal::Credentials)
        );
        for literal in [
            "https://127.0.0.1/",
            "https://[::1]:8443/",
            "https://10.0.0.5/",
            "https://169.254.169.254/latest/meta-data",
            "https://[fd00::1]/",
            "https://0x7f.1/",     // another spelling of 127.0.0.1
            "https://2130706433/", // and another
            "https://[::ffff:192.168.0.1]/",
        ] {
            assert_eq!(
                PRODUCTION.check_url(literal),
                Err(UrlRefusal::AddressNotAllowed),
                "{literal}"
            );
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(PRODUCTION.check_url(&long), Err(UrlRefusal::Malformed));
        let dev = AddressPolicy { allow_http: true, allow_private: true };
        let url = dev.check_url("http://127.0.0.1:9000/hook").unwrap();
        assert_eq!(url.ip(), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        // A host name is checked when it is resolved.
        assert_eq!(dev.check_url("http://localhost:9000/").unwrap().ip(), None);
    }
}
