//! The documents every contestant merges: a user's local config (a few KB,
//! the same for every N) and an operator's answer with N accounts (about 760
//! bytes each), plus the merge result computed by string assembly, not by
//! any XML code, so the library's output can be checked byte for byte.
//!
//! Deterministic: the same N gives the same bytes on every machine.

/// Sections the provision file declares significant. The answer holds the
/// first two; `network` is significant but absent, so the local one stays.
pub const SIGNIFICANT: &str = "accounts,codecs,network";

pub struct Docs {
    pub local: String,
    pub answer: String,
    pub expected: String,
}

/// A small, fixed pseudo-random sequence (xorshift), so values vary between
/// accounts without depending on any crate's generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const CITIES: &[&str] = &["Zürich", "Genève", "Lyon", "Kraków", "Malmö", "Porto", "Gent", "Brno"];
const TRANSPORTS: &[&str] = &["udp", "tcp", "tls"];
const DTMF: &[&str] = &["rfc2833", "info", "inband"];

fn account(out: &mut String, i: usize, rng: &mut Rng) {
    use std::fmt::Write;
    let city = rng.pick(CITIES);
    let transport = rng.pick(TRANSPORTS);
    let dtmf = rng.pick(DTMF);
    let port = 5060 + (rng.next() % 3) as u32;
    let expiry = 600 * (1 + rng.next() % 6);
    let floor = rng.next() % 12;
    let (c1, c2) = if i.is_multiple_of(2) { (0, 8) } else { (9, 0) };
    write!(
        out,
        r#"
    <!-- account {i}: desk {i} in {city} -->
    <account id="{i}" type="SIP" enabled="{enabled}" order='{i}'>
      <name>Desk {i:07} &#8211; {city}</name>
      <username>u{i:07}</username>
      <password>pw&amp;{i:07}x</password>
      <caller_id number="+4144{i:07}">Desk {i}</caller_id>
      <domain>sip{d}.example.net</domain>
      <outbound_proxy transport="{transport}" port="{port}">proxy{d}.example.net</outbound_proxy>
      <register_on_startup>1</register_on_startup>
      <reregistration_time unit="s">{expiry}</reregistration_time>
      <dtmf_style>{dtmf}</dtmf_style>
      <codecs>
        <codec id="{c1}" priority="1"/>
        <codec id="{c2}" priority="2"/>
      </codecs>
      <notes><![CDATA[floor {floor} <east wing> & lift B]]></notes>
    </account>"#,
        enabled = u8::from(i % 7 != 3),
        d = i % 4,
    )
    .unwrap();
}

fn accounts_section(n: usize, seed: u64) -> String {
    let mut rng = Rng(seed);
    let mut s = String::with_capacity(n * 800 + 64);
    s.push_str(&format!("<accounts count=\"{n}\">"));
    for i in 0..n {
        account(&mut s, i, &mut rng);
    }
    s.push_str("\n  </accounts>");
    s
}

const ANSWER_CODECS: &str = r#"<codecs>
    <!-- operator's order -->
    <codec id="9" name="G722" priority="1" enabled="1"/>
    <codec id="0" name="PCMU" priority="2" enabled="1"/>
    <codec id="8" name="PCMA" priority="3" enabled="1"/>
    <codec id="18" name="G729" priority="4" enabled="0"/>
  </codecs>"#;

const LOCAL_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- Softphone configuration. Edited by hand: keep my comments, please. -->
<options version="2" product='softphone'>
  <general>
    <language>fr</language>
    <start_minimized>0</start_minimized>
    <!-- my ringtone, do not touch -->
    <ringtone path="/home/me/sounds/ring.wav" volume="80"/>
    <display_name>Zoë &amp; Co</display_name>
  </general>
  <!-- the accounts below are replaced by provisioning -->
  "#;

const LOCAL_MIDDLE: &str = r#"
  <audio>
    <input device="default" gain="0.8"/>
    <output device="USB Headset" volume="65"/>
    <echo_cancellation>1</echo_cancellation>
  </audio>
  "#;

const LOCAL_TAIL: &str = r#"
  <network>
    <stun enabled="0"/>
    <keepalive unit="s">30</keepalive>
  </network>
  <diagnostics><log level="info">/home/me/.softphone/log</log></diagnostics>
</options>
"#;

const LOCAL_CODECS: &str = r#"<codecs>
    <codec id="0" priority="1"/>
  </codecs>"#;

const ANSWER_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- Answer of the provisioning server; generated for the benchmark. -->
<options version="3" generated="bench">
  <general>
    <language>en</language>
    <check_updates>1</check_updates>
  </general>
  "#;

const ANSWER_MIDDLE: &str = "\n  ";

const ANSWER_TAIL: &str = r#"
  <audio><!-- the operator's defaults, not significant here -->
    <output device="default" volume="50"/>
  </audio>
  <diagnostics><log level="debug">/tmp/softphone.log</log></diagnostics>
</options>
"#;

/// The three documents for `n` accounts.
pub fn generate(n: usize) -> Docs {
    let accounts = accounts_section(n, 0x9E37_79B9_7F4A_7C15);
    // The user's stale copy: two accounts from an older provisioning.
    let stale = accounts_section(2, 0x2545_F491_4F6C_DD1D);
    let local = [LOCAL_HEAD, &stale, LOCAL_MIDDLE, LOCAL_CODECS, LOCAL_TAIL].concat();
    let answer = [ANSWER_HEAD, &accounts, ANSWER_MIDDLE, ANSWER_CODECS, ANSWER_TAIL].concat();
    let expected = [LOCAL_HEAD, &accounts, LOCAL_MIDDLE, ANSWER_CODECS, LOCAL_TAIL].concat();
    Docs { local, answer, expected }
}
