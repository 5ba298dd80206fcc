//! HTTP Digest authentication (RFC 7616), client side: MD5 and SHA-256
//! (and their `-sess` variants), `qop=auth`, `userhash`.
//!
//! The password never leaves the phone: the server gets a hash over its own
//! fresh nonce, our random cnonce, the method and the URI. Each challenge is
//! answered once (nonce count 1), so a response cannot be replayed against
//! another nonce.

use md5::Md5;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest as _, Sha256};

/// RFC 8187 attr-char: what `username*=UTF-8''...` may carry unescaped.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Hash {
    Md5,
    Sha256,
}

impl Hash {
    fn hex(self, data: &str) -> String {
        let bytes = match self {
            Hash::Md5 => Md5::digest(data.as_bytes()).to_vec(),
            Hash::Sha256 => Sha256::digest(data.as_bytes()).to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// One `Digest` challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    hash: Hash,
    /// The `algorithm` token as the server wrote it, echoed back.
    algorithm: String,
    session: bool,
    realm: String,
    nonce: String,
    opaque: Option<String>,
    userhash: bool,
}

impl Challenge {
    /// Reads one header value. `Ok(None)`: not a Digest challenge (Basic,
    /// Bearer...). `Err`: a Digest challenge we cannot answer, and why.
    pub fn parse(header: &str) -> Result<Option<Challenge>, String> {
        let header = header.trim_start();
        let Some(scheme_end) = header.find(|c: char| c.is_ascii_whitespace()) else {
            return Ok(None);
        };
        if !header[..scheme_end].eq_ignore_ascii_case("digest") {
            return Ok(None);
        }
        let params = auth_params(&header[scheme_end..]);
        let get = |name: &str| params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
        let algorithm = get("algorithm").unwrap_or_else(|| "MD5".to_owned());
        let (base, session) = match algorithm.to_ascii_uppercase().strip_suffix("-SESS") {
            Some(base) => (base.to_owned(), true),
            None => (algorithm.to_ascii_uppercase(), false),
        };
        let hash = match base.as_str() {
            "MD5" => Hash::Md5,
            "SHA-256" => Hash::Sha256,
            _ => return Err(format!("algorithm {algorithm} is not supported (MD5 or SHA-256)")),
        };
        let qop = get("qop").unwrap_or_default();
        if !qop.split(',').any(|q| q.trim().eq_ignore_ascii_case("auth")) {
            return Err(format!("the challenge offers no qop=auth (qop=\"{qop}\")"));
        }
        let (Some(realm), Some(nonce)) = (get("realm"), get("nonce")) else {
            return Err("the challenge lacks a realm or a nonce".to_owned());
        };
        Ok(Some(Challenge {
            hash,
            algorithm,
            session,
            realm,
            nonce,
            opaque: get("opaque"),
            userhash: get("userhash").is_some_and(|v| v.eq_ignore_ascii_case("true")),
        }))
    }

    /// The strongest challenge among `headers` (SHA-256 before MD5: a
    /// server offering both must not be answered with the weaker one), or
    /// why none can be answered; `Ok(None)` when no header is a Digest one.
    pub fn pick<'a>(headers: impl IntoIterator<Item = &'a str>) -> Result<Option<Challenge>, String> {
        let mut best: Option<Challenge> = None;
        let mut refused = None;
        for header in headers {
            match Challenge::parse(header) {
                Ok(Some(c)) if best.as_ref().is_none_or(|b| c.hash > b.hash) => best = Some(c),
                Ok(_) => {}
                Err(why) => refused = Some(why),
            }
        }
        match (best, refused) {
            (Some(c), _) => Ok(Some(c)),
            (None, Some(why)) => Err(why),
            (None, None) => Ok(None),
        }
    }

    /// The `Authorization` header value answering this challenge for a GET
    /// of `uri` (the request target: path and query).
    pub fn answer(&self, user: &str, password: &str, uri: &str, cnonce: &str) -> String {
        let h = |data: String| self.hash.hex(&data);
        let nc = "00000001";
        let mut ha1 = h(format!("{user}:{}:{password}", self.realm));
        if self.session {
            ha1 = h(format!("{ha1}:{}:{cnonce}", self.nonce));
        }
        let ha2 = h(format!("GET:{uri}"));
        let response = h(format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce));

        let username = if self.userhash {
            format!("username=\"{}\"", h(format!("{user}:{}", self.realm)))
        } else if user.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            format!("username={}", quoted(user))
        } else {
            format!("username*=UTF-8''{}", utf8_percent_encode(user, ATTR_CHAR))
        };
        let mut header = format!(
            "Digest {username}, realm={}, uri={}, algorithm={}, nonce={}, nc={nc}, cnonce={}, qop=auth, response=\"{response}\"",
            quoted(&self.realm),
            quoted(uri),
            self.algorithm,
            quoted(&self.nonce),
            quoted(cnonce),
        );
        if let Some(opaque) = &self.opaque {
            header.push_str(&format!(", opaque={}", quoted(opaque)));
        }
        if self.userhash {
            header.push_str(", userhash=true");
        }
        header
    }
}

/// A fresh client nonce: 16 random bytes, hex.
pub fn cnonce() -> String {
    let mut bytes = [0u8; 16];
    // Without the OS's randomness a fixed cnonce still authenticates; it
    // only weakens the server's protection against chosen-nonce attacks.
    let _ = getrandom::getrandom(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `name=value` or `name="quoted value"` pairs separated by commas (RFC 7235
/// auth-params). Stops at anything else, e.g. the next challenge's scheme.
fn auth_params(text: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',');
        let Some(eq) = rest.find('=') else { break };
        let name = rest[..eq].trim();
        if name.is_empty() || name.contains(|c: char| c.is_ascii_whitespace() || c == ',' || c == '"') {
            break;
        }
        rest = rest[eq + 1..].trim_start();
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next().map(|(_, c)| c)),
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            rest = &quoted[end.min(quoted.len())..];
            value
        } else {
            let end = rest.find(|c: char| c == ',' || c.is_ascii_whitespace()).unwrap_or(rest.len());
            let value = rest[..end].to_owned();
            rest = &rest[end..];
            value
        };
        params.push((name.to_owned(), value));
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7616 section 3.9.1: the same request answered with SHA-256 and MD5.
    const RFC_SHA256: &str = "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, \
        nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

    fn response_of(header: &str) -> &str {
        let at = header.find("response=\"").unwrap() + 10;
        &header[at..at + header[at..].find('"').unwrap()]
    }

    #[test]
    fn the_rfc_7616_examples() {
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let sha = Challenge::parse(RFC_SHA256).unwrap().unwrap();
        let header = sha.answer("Mufasa", "Circle of Life", "/dir/index.html", cnonce);
        assert_eq!(response_of(&header), "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
        assert!(header.contains("algorithm=SHA-256") && header.contains("opaque=\"FQhe/"), "{header}");

        let md5 = Challenge::parse(&RFC_SHA256.replace("SHA-256", "MD5")).unwrap().unwrap();
        let header = md5.answer("Mufasa", "Circle of Life", "/dir/index.html", cnonce);
        assert_eq!(response_of(&header), "8ca523f5e9506fed4657c9700eebdbec");
    }

    #[test]
    fn the_strongest_offer_wins_and_unusable_ones_say_why() {
        let md5 = RFC_SHA256.replace("SHA-256", "MD5");
        let picked = Challenge::pick([md5.as_str(), "Basic realm=\"x\"", RFC_SHA256]).unwrap().unwrap();
        assert_eq!(picked.hash, Hash::Sha256);
        assert_eq!(Challenge::pick(["Basic realm=\"x\""]), Ok(None));
        let err = Challenge::pick([RFC_SHA256.replace("SHA-256", "SHA-512-256").as_str()]).unwrap_err();
        assert!(err.contains("SHA-512-256"), "{err}");
        let err = Challenge::pick([RFC_SHA256.replace("auth, auth-int", "auth-int").as_str()]).unwrap_err();
        assert!(err.contains("qop"), "{err}");
    }

    #[test]
    fn names_and_values_are_quoted_or_encoded() {
        let c = Challenge::parse("Digest realm=\"a \\\"b\\\"\", nonce=n, qop=auth").unwrap().unwrap();
        assert_eq!(c.realm, "a \"b\"");
        let header = c.answer("al\"ice", "pw", "/c?x=1", "cn");
        assert!(header.starts_with("Digest username=\"al\\\"ice\", realm=\"a \\\"b\\\"\", uri=\"/c?x=1\""), "{header}");
        let header = c.answer("jürgen", "pw", "/", "cn");
        assert!(header.contains("username*=UTF-8''j%C3%BCrgen"), "{header}");
        let hashed = Challenge::parse("Digest realm=r, nonce=n, qop=auth, userhash=true").unwrap().unwrap();
        let header = hashed.answer("bob", "pw", "/", "cn");
        assert!(
            header.contains(&format!("username=\"{}\"", Hash::Md5.hex("bob:r"))) && header.ends_with("userhash=true")
        );
    }

    #[test]
    fn cnonces_differ() {
        assert_ne!(cnonce(), cnonce());
        assert_eq!(cnonce().len(), 32);
    }
}
