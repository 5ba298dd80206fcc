//! What may be shown: URLs without their secrets, messages without the
//! password. Every URL that reaches a message, a log record, an outcome or a
//! CLI line goes through [`show_url`]; every text that came from outside (a
//! server's words, a transport error) goes through a [`Scrubber`] holding
//! what was sent.
//!
//! Both run on messages and URLs, never on answers: they cost nothing on the
//! merge's hot path.

use std::borrow::Cow;

/// What replaces a secret.
pub const MASK: &str = "***";

/// Query parameter names whose values are secrets, as substrings of the
/// lowercased (percent-decoded) name: `password`, `sip_pwd`, `api_key`,
/// `access_token`, `client_secret`...
const SECRET_NAMES: &[&str] = &["pass", "pwd", "secret", "token", "key"];

/// Passwords this long or longer are scrubbed wherever they occur, even
/// inside a longer word; shorter ones only where they stand alone, as a
/// short word occurs in ordinary text and masking every copy would garble
/// the message (and, by where the stars fall, spell the password out).
pub const MIN_SUBSTRING_SECRET_CHARS: usize = 4;

/// Whether a query parameter named `name` (as written, maybe
/// percent-encoded) carries a secret.
pub fn is_secret_name(name: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(name).decode_utf8_lossy().to_ascii_lowercase();
    SECRET_NAMES.iter().any(|s| decoded.contains(s))
}

/// `url` as it may be shown: a password in its userinfo and the value of
/// every query parameter whose name [`is_secret_name`] become `***`. The
/// rest stays as written (no normalisation), so a URL without secrets is
/// shown exactly as the provision file has it. Works on text that is not a
/// valid URL too (it is shown in the message that refuses it).
pub fn show_url(url: &str) -> Cow<'_, str> {
    let (userinfo_password, query) = secret_ranges(url);
    if userinfo_password.is_none() && query.is_empty() {
        return Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(url.len());
    let mut at = 0;
    for range in userinfo_password.into_iter().chain(query) {
        out.push_str(&url[at..range.start]);
        out.push_str(MASK);
        at = range.end;
    }
    out.push_str(&url[at..]);
    Cow::Owned(out)
}

/// The values of `url`'s secret query parameters (non-empty; as written,
/// percent-decoded, and form-decoded with `+` as a space, as PHP's `$_GET`
/// reads them), for a [`Scrubber`]: a server may echo them.
pub fn query_secrets(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    for range in secret_ranges(url).1 {
        let raw = &url[range];
        let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
        let form = percent_encoding::percent_decode_str(&raw.replace('+', " ")).decode_utf8_lossy().into_owned();
        if form != decoded {
            secrets.push(form);
        }
        if decoded != raw {
            secrets.push(decoded.into_owned());
        }
        secrets.push(raw.to_owned());
    }
    secrets
}

/// Byte ranges of `url` holding secrets: the userinfo's password, and the
/// non-empty values of secret query parameters, in order.
fn secret_ranges(url: &str) -> (Option<std::ops::Range<usize>>, Vec<std::ops::Range<usize>>) {
    let end_of = |from: usize, stops: &[char]| url[from..].find(stops).map_or(url.len(), |i| from + i);
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let mut authority_end = end_of(authority_start, &['/', '?', '#']);
    // A password holding '/', '?' or '#' written raw: the parser ends the
    // authority there and fails on a "port", and the refusal shows the text.
    // In text that does not parse, userinfo runs to the last '@'.
    if url::Url::parse(url).is_err() {
        if let Some(at) = url[authority_start..].rfind('@') {
            authority_end = end_of(authority_start + at, &['/', '?', '#']);
        }
    }
    let userinfo_password = url[authority_start..authority_end].rfind('@').and_then(|at| {
        let userinfo = authority_start..authority_start + at;
        url[userinfo.clone()].find(':').map(|colon| userinfo.start + colon + 1..userinfo.end)
    });
    let mut query = Vec::new();
    if let Some(q) = url[authority_end..].find('?').map(|i| authority_end + i + 1) {
        let q_end = end_of(q, &['#']);
        let mut start = q;
        while start <= q_end {
            let end = url[start..q_end].find(['&', ';']).map_or(q_end, |i| start + i);
            if let Some(eq) = url[start..end].find('=') {
                // A template's `[password]` stands for a secret; it is none.
                let value = &url[start + eq + 1..end];
                if !value.is_empty()
                    && is_secret_name(&url[start..start + eq])
                    && !crate::template::is_placeholder(value)
                {
                    query.push(start + eq + 1..end);
                }
            }
            start = end + 1;
        }
    }
    (userinfo_password, query)
}

/// Removes secrets from text that came from outside. Built once per run (or
/// per URL) from what is sent; a text without any of them is returned as is.
#[derive(Default, Clone)]
pub struct Scrubber {
    /// Replaced wherever they occur.
    anywhere: Vec<String>,
    /// Replaced only where they stand as a whole word (short passwords).
    whole_words: Vec<String>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrubber").finish_non_exhaustive()
    }
}

impl Scrubber {
    pub fn new() -> Scrubber {
        Scrubber::default()
    }

    /// A secret a person chose (a password, a query value): scrubbed as a
    /// substring from [`MIN_SUBSTRING_SECRET_CHARS`] characters on, as a
    /// whole word below. Empty ones are ignored.
    pub fn secret(&mut self, secret: &str) -> &mut Scrubber {
        if secret.chars().count() >= MIN_SUBSTRING_SECRET_CHARS {
            self.derived(secret.to_owned());
        } else if !secret.is_empty() && !self.whole_words.iter().any(|s| s == secret) {
            self.whole_words.push(secret.to_owned());
        }
        self
    }

    /// A password with what is derived from it for `user`: the password, its
    /// lowercase and uppercase hex MD5 (`url` authentication) and the Basic
    /// token, also without its `=` padding: that still decodes to
    /// `user:password`, and a server reflecting the header into a URL writes
    /// the padding as `%3D`.
    pub fn password(&mut self, user: &str, password: &str) -> &mut Scrubber {
        if password.is_empty() {
            return self;
        }
        use base64::Engine as _;
        let md5 = md5_hex(password);
        self.derived(md5.to_ascii_uppercase());
        self.derived(md5);
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.derived(token.trim_end_matches('=').to_owned());
        self.derived(token);
        self.secret(password)
    }

    /// Something long and unmistakable (a token, a digest): scrubbed
    /// wherever it occurs.
    pub fn derived(&mut self, secret: String) -> &mut Scrubber {
        if !secret.is_empty() && !self.anywhere.contains(&secret) {
            self.anywhere.push(secret);
            // The longest first, so that a secret holding another is masked whole.
            self.anywhere.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
        self
    }

    /// `text` without any of the secrets.
    pub fn scrub(&self, text: String) -> String {
        let text =
            self.anywhere
                .iter()
                .fold(text, |t, s| if t.contains(s.as_str()) { t.replace(s.as_str(), MASK) } else { t });
        self.whole_words.iter().fold(text, |t, w| if t.contains(w.as_str()) { replace_whole(&t, w, MASK) } else { t })
    }
}

/// The lowercase hex MD5 that the `url` authentication type sends.
pub fn md5_hex(password: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(password.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// `text` with each occurrence of `word` that is not part of a longer
/// alphanumeric run replaced by `with`.
fn replace_whole(text: &str, word: &str, with: &str) -> String {
    let is_word_char = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back().or_else(|| out.chars().next_back());
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        let glued_before = is_word_char(before) && word.starts_with(char::is_alphanumeric);
        let glued_after = is_word_char(after) && word.ends_with(char::is_alphanumeric);
        out.push_str(if !glued_before && !glued_after { with } else { word });
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_query_values_and_userinfo_passwords_are_masked() {
        let cases = [
            ("http://h/", "http://h/"),
            ("http://h/p?site=7&x=%2B", "http://h/p?site=7&x=%2B"),
            ("http://h/?username=u&password=verysecret", "http://h/?username=u&password=***"),
            (
                "https://h/a?PassWord=x&Sip_Pwd=y;apikey=z&token=&t=1#frag",
                "https://h/a?PassWord=***&Sip_Pwd=***;apikey=***&token=&t=1#frag",
            ),
            ("http://h/?client%5Fsecret=s&access_TOKEN=t&key", "http://h/?client%5Fsecret=***&access_TOKEN=***&key"),
            ("http://bob:hunter2@h/x?pass=1", "http://bob:***@h/x?pass=***"),
            ("http://bob@h/", "http://bob@h/"),
            ("not a url?password=pw", "not a url?password=***"),
            ("http://h/p@x:y", "http://h/p@x:y"),
            ("http://bob:pw/s?x@h/?pass=1", "http://bob:***@h/?pass=***"),
            ("http://bob:pw#s@h/", "http://bob:***@h/"),
            ("http://h:99999/p@x", "http://h:***@x"),
            ("http://h/?password=[password]&pwd={pwd}", "http://h/?password=[password]&pwd={pwd}"),
        ];
        for (url, want) in cases {
            assert_eq!(show_url(url), want, "{url}");
        }
        assert!(matches!(show_url("http://h/?a=1"), Cow::Borrowed(_)));
        assert_eq!(query_secrets("http://h/?password=a%20b&user=u"), ["a b", "a%20b"]);
        assert_eq!(query_secrets("http://h/?password=a+b%2B"), ["a b+", "a+b+", "a+b%2B"]);
    }

    #[test]
    fn passwords_of_four_characters_or_more_go_wherever_they_occur() {
        let mut s = Scrubber::new();
        s.password("bob", "S3cret");
        let md5 = md5_hex("S3cret");
        let token = "Ym9iOlMzY3JldA==";
        let text = format!("echo: xS3cret-pwy {md5} {} Basic {token}", md5.to_uppercase());
        assert_eq!(s.scrub(text), "echo: x***-pwy *** *** Basic ***");
        assert_eq!(s.scrub("?auth=Ym9iOlMzY3JldA%3D%3D".into()), "?auth=***%3D%3D");
        // A short one only as a whole word.
        let mut s = Scrubber::new();
        s.password("bob", "pw");
        assert_eq!(s.scrub("pw wrong: pwd pw.".into()), "*** wrong: pwd ***.");
        assert_eq!(replace_whole("http://p/ p; pp p", "p", "*"), "http://*/ *; pp *");
        assert_eq!(replace_whole("x&y=1", "&y", "*"), "x*=1");
    }

    #[test]
    fn md5_is_lowercase_hex() {
        assert_eq!(md5_hex("secret"), "5ebe2294ecd0e0f08eab7690d2a6ee69");
    }
}
